package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.MmuNotifier;
import dev.iommulab.drivers.DriverDomain;
import dev.iommulab.hw.riscv.RiscvCommand;
import java.util.ArrayList;
import java.util.List;

/**
 * The lab's RISC-V SVA domain: its PSCID (from {@code 1..RISCV_IOMMU_MAX_PSCID}, tagging its IOTLB entries), its
 * attachments (device, PASID), its ops — set_dev_pasid writes a process context ({@link PasidAttach}), the blocked
 * domain's set_dev_pasid clears it — and its mm notifier. <b>Not in mainline</b> (the merged driver has no SVA,
 * reference/linux-fault-stack.md §6.4): a documented option modelled on the VT-d driver's SVA domains and
 * {@code intel_mmuops} (intel/svm.c) and the RISC-V invalidation guidelines (reference/iommu-hardware.md §2.4.5). The
 * notifier is registered on the mm when the domain is allocated and unregistered when it is freed.
 * <ul>
 *   <li>invalidate ({@code arch_invalidate_secondary_tlbs}): {@code IOTINVAL.VMA} of the domain's PSCID — per 4 KiB
 *       page (AV) below {@link RiscvDomains#IOTLB_INVAL_LIMIT}, the whole PSCID otherwise or for the whole address
 *       space — then for each ATS function {@code ATS.INVAL} with the PASID (the naturally aligned block covering the
 *       range, or every address), then {@code IOFENCE.C}; the caller sleeps until the fence executed, which is after
 *       every function's Invalidate Completion, so munmap() frees nothing a device may still translate to;</li>
 *   <li>release (process exit): like intel_mm_release(), each process context of the domain is taken out of use
 *       without a drain — cleared (V = 0), {@code IODIR.INVAL_PDT} + {@code IOTINVAL.VMA} + {@code IOFENCE.C},
 *       {@code ATS.INVAL} of the PASID + {@code IOFENCE.C}, waited for — and IOPF stays enabled until the unbind.
 *       What the hardware then does differs from VT-d (no fault-processing-disable bit): an untranslated request
 *       for the PASID faults with cause 266 ("PDT entry not valid") in the fault queue, an ATS Translation Request
 *       gets Success with R = W = 0 and no record, and page requests, which the IOMMU checks only against the device
 *       context, still reach software, where the SVA handler answers INVALID because the mm has no users left. The
 *       later unbind finds the context invalid and runs its usual teardown.</li>
 * </ul>
 */
final class RiscvSvaDomain extends DriverDomain implements RiscvDomain, MmuNotifier {

    /** One attachment of an SVA domain. */
    private record Attachment(RiscvDeviceInfo info, int pasid) {
    }

    private final RiscvUnit unit;
    private final RiscvIommuDevice iommu;
    private final CommandQueue cmdq;
    private final PasidAttach pasids;
    private final int pscid;
    private final List<Attachment> attachments = new ArrayList<>();
    private boolean registered;

    private RiscvSvaDomain(IommuOps owner, RiscvUnit unit, PasidAttach pasids, MmStruct mm, int pscid) {
        super(ops -> new IommuDomain(DomainType.SVA, owner, ops, mm));
        this.unit = unit;
        this.iommu = unit.iommu();
        this.cmdq = unit.cmdq();
        this.pasids = pasids;
        this.pscid = pscid;
    }

    /**
     * {@code domain_alloc_sva}, modelled on the kernel's paging domains: a PSCID, then the domain's notifier joins
     * {@code mm} (mmu_notifier_register()).
     *
     * @throws KernelException ENOSPC when PSCIDs run out
     */
    static IommuDomain alloc(IommuOps owner, RiscvUnit unit, PasidAttach pasids, MmStruct mm) {
        RiscvSvaDomain sva = new RiscvSvaDomain(owner, unit, pasids, mm, unit.allocPscid());
        mm.mmuNotifierRegister(sva);
        sva.registered = true;
        return sva.domain();
    }

    /** The PSCID of the domain's process contexts. */
    int pscid() {
        return pscid;
    }

    /** An SVA domain has no attach_dev (ENODEV). */
    @Override
    public void attachDev(IommuDomain d, Device dev) {
        unit.info(dev);
        throw new KernelException(Errno.ENODEV, "domain", domain().type() + " domains have no attach_dev");
    }

    /**
     * {@code set_dev_pasid} (not in mainline): the process context of {@code pasid} on the process's page table; see
     * {@link PasidAttach#setDevPasid}.
     *
     * @throws KernelException EINVAL when the device has no PDT, PASID or ATS or {@code pasid} is beyond its PDT,
     *                         ENOMEM when a PDT level cannot be allocated (IOPF is then disabled again)
     */
    @Override
    public void setDevPasid(IommuDomain d, Device dev, int pasid) {
        RiscvDeviceInfo info = unit.info(dev);
        pasids.setDevPasid(info, domain(), pscid, pasid);
        if (registered) {
            attachments.add(new Attachment(info, pasid));
        }
        info.setAttached(pasid, this);
    }

    /** Replacing an SVA attachment is not modelled (EOPNOTSUPP). */
    @Override
    public void setDevPasid(IommuDomain d, Device dev, int pasid, IommuDomain old) {
        throw new KernelException(Errno.EOPNOTSUPP, "domain", "replacing an SVA attachment is not modelled");
    }

    /** The blocked domain in place of this one: see {@link PasidAttach#removeDevPasid}. */
    @Override
    public void removeDevPasid(RiscvBlockedDomain blocked, RiscvDeviceInfo info, int pasid) {
        pasids.removeDevPasid(info, pasid, domain(), pscid);
        attachments.remove(new Attachment(info, pasid));
        info.setAttached(pasid, null);
    }

    /** The free op (not in mainline): the notifier leaves the mm (mmu_notifier_put()). */
    @Override
    public void free(IommuDomain d) {
        if (registered) {
            registered = false;
            domain().mm().mmuNotifierUnregister(this);
        }
    }

    private static RiscvCommand atsInvalAll(Attachment a) {
        RiscvCommand inval = RiscvCommand.atsInval(a.info().devid(), true, a.pasid(), false, 0, 4096);
        return new RiscvCommand(inval.qw0(), RiscvIommuDriver.ATS_INVAL_ALL);
    }

    @Override
    public void invalidateSecondaryTlbs(MmStruct mm, long start, long end) {
        boolean whole = start == 0 && end == -1L;
        List<RiscvCommand> cmds = new ArrayList<>();
        if (!whole && end - start < RiscvDomains.IOTLB_INVAL_LIMIT) {
            for (long va = start; va < end; va += 4096) {
                cmds.add(RiscvCommand.iotinvalVma(false, 0, true, pscid, true, va));
            }
        } else {
            cmds.add(RiscvCommand.iotinvalVma(false, 0, true, pscid, false, 0));
        }
        long size = 4096;
        while (!whole && (start & -size) != ((end - 1) & -size)) {
            size <<= 1;
        }
        for (Attachment a : attachments) {
            if (a.info().pci().atsEnabled()) {
                cmds.add(whole ? atsInvalAll(a) : RiscvCommand.atsInval(a.info().devid(), true, a.pasid(), false,
                        start & -size, size));
            }
        }
        boolean done = cmdq.sendAndWait(cmds.toArray(RiscvCommand[]::new));
        iommu.trace("riscv_iommu_mm_invalidate", "%s [%#x, %#x): PSCID %d, %d command(s)%s", mm.name(), start, end,
                pscid, cmds.size(), done ? ", fenced" : ", the fence never completed");
    }

    @Override
    public void release(MmStruct mm) {
        for (Attachment a : List.copyOf(attachments)) {
            pasids.clearProcessContext(a.info(), a.pasid(), pscid);
        }
        iommu.trace("riscv_iommu_mm_release", "%s exits: %d process context(s) invalid, no drain", mm.name(),
                attachments.size());
    }
}
