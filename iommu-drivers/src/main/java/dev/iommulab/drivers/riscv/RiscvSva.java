package dev.iommulab.drivers.riscv;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.MmuNotifier;
import dev.iommulab.hw.riscv.RiscvCommand;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The mm notifier of the lab's RISC-V SVA domains. <b>Not in mainline</b> (the merged driver has no SVA,
 * reference/linux-fault-stack.md §6.4): a documented option modelled on the VT-d driver's {@code intel_mmuops}
 * (intel/svm.c) and the RISC-V invalidation guidelines (reference/iommu-hardware.md §2.4.5). Each SVA domain
 * registers one notifier on its mm when it is allocated and unregisters it when it is freed; the notifier knows the
 * domain's attachments (device, PASID).
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
final class RiscvSva {

    /** One attachment of an SVA domain. */
    private record Attachment(RiscvDeviceInfo info, int pasid) {
    }

    /** The notifier of one SVA domain. */
    private final class Notifier implements MmuNotifier {
        final IommuDomain domain;
        final List<Attachment> attachments = new ArrayList<>();

        Notifier(IommuDomain domain) {
            this.domain = domain;
        }

        @Override
        public void invalidateSecondaryTlbs(MmStruct mm, long start, long end) {
            int pscid = (Integer) domain.driverData();
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
                if (a.info().pci.atsEnabled()) {
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
                pasids.clearProcessContext(a.info(), a.pasid(), (Integer) domain.driverData());
            }
            iommu.trace("riscv_iommu_mm_release", "%s exits: %d process context(s) invalid, no drain", mm.name(),
                    attachments.size());
        }
    }

    private final RiscvIommuDevice iommu;
    private final CommandQueue cmdq;
    private final PasidAttach pasids;
    private final Map<IommuDomain, Notifier> notifiers = new IdentityHashMap<>();

    RiscvSva(RiscvIommuDevice iommu, CommandQueue cmdq, PasidAttach pasids) {
        this.iommu = iommu;
        this.cmdq = cmdq;
        this.pasids = pasids;
    }

    private static RiscvCommand atsInvalAll(Attachment a) {
        RiscvCommand inval = RiscvCommand.atsInval(a.info().devid(), true, a.pasid(), false, 0, 4096);
        return new RiscvCommand(inval.qw0(), RiscvIommuDriver.ATS_INVAL_ALL);
    }

    /** At domain_alloc_sva: the domain's notifier joins its mm (mmu_notifier_register()). */
    void register(IommuDomain domain) {
        Notifier n = new Notifier(domain);
        notifiers.put(domain, n);
        domain.mm().mmuNotifierRegister(n);
    }

    /** At domain free: the notifier leaves the mm (mmu_notifier_put()). */
    void unregister(IommuDomain domain) {
        Notifier n = notifiers.remove(domain);
        if (n != null) {
            domain.mm().mmuNotifierUnregister(n);
        }
    }

    void attached(IommuDomain domain, RiscvDeviceInfo info, int pasid) {
        Notifier n = notifiers.get(domain);
        if (n != null) {
            n.attachments.add(new Attachment(info, pasid));
        }
    }

    void detached(IommuDomain domain, RiscvDeviceInfo info, int pasid) {
        Notifier n = notifiers.get(domain);
        if (n != null) {
            n.attachments.remove(new Attachment(info, pasid));
        }
    }
}
