package dev.iommulab.drivers.riscv;

import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Completion;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.drivers.IopfRefcount;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.iopf.IoPgfault;

/**
 * Attaching SVA domains at PASIDs and detaching them, with IOPF for fault-capable attachments
 * ({@link RiscvUnit#iopfRefs()}, also used by {@link RiscvDomains}). <b>Not in mainline</b>:
 * the merged RISC-V driver has no PASID support, no IOPF and no SVA (reference/linux-fault-stack.md §6.4). The lab's
 * version is modelled on the VT-d driver — intel_svm_set_dev_pasid(),
 * intel_iommu_enable_iopf()/intel_iommu_disable_iopf() and the PASID teardown (the lab's {@code intel.IntelUnit},
 * {@code intel.IntelSvaDomain} and {@code intel.IntelBlockedDomain}) — and writes and invalidates RISC-V process
 * contexts as the specification's programming guidelines describe (riscv-iommu "Process-context fields",
 * reference/iommu-hardware.md §2.4.1, §2.4.5).
 */
final class PasidAttach {

    private final RiscvIommuDevice iommu;
    private final DeviceDirectory directory;
    private final CommandQueue cmdq;
    private final IoPgfault iopf;
    private final IopfRefcount iopfRefs;
    /** The page-request thread; null without a page-request queue. */
    private final PageRequestHandler requests;

    PasidAttach(RiscvUnit unit) {
        this.iommu = unit.iommu();
        this.directory = unit.directory();
        this.cmdq = unit.cmdq();
        this.iopf = unit.iopf();
        this.iopfRefs = unit.iopfRefs();
        this.requests = unit.requests();
    }

    /**
     * {@code set_dev_pasid} for an SVA domain ({@link RiscvSvaDomain}), modelled on intel_svm_set_dev_pasid(): IOPF
     * enabled first when the domain is fault-capable, then the process context of {@code pasid}: {@code fsc} = Sv48
     * with the process's page table ({@code mm->pgd}), then {@code ta} = V with the domain's {@code pscid},
     * {@code ENS} = 0 and {@code SUM} = 0 (user accesses only); then {@code IODIR.INVAL_PDT} and {@code IOFENCE.C}.
     *
     * @throws KernelException EINVAL when the device has no PDT, PASID or ATS or {@code pasid} is beyond its PDT,
     *                         ENOMEM when a PDT level cannot be allocated (IOPF is then disabled again)
     */
    void setDevPasid(RiscvDeviceInfo info, IommuDomain domain, int pscid, int pasid) {
        if (info.pdt == 0 || !info.pci().pasidEnabled() || !info.pci().atsEnabled()) {
            throw new KernelException(Errno.EINVAL, "dev", info.dev() + " needs PASID and ATS enabled for SVA");
        }
        int pdtBits = DeviceDirectory.pdtBits(info.pdtMode);
        if (pasid >>> pdtBits != 0) {
            throw new KernelException(Errno.EINVAL, "pasid", pasid + " is beyond the PD" + pdtBits + " table of "
                    + info.dev());
        }
        boolean pri = info.priSupported(); // as VT-d: SVA on a function without PRI handles its faults itself
        if (pri) {
            iopfRefs.forDomainSet(domain, info);
        }
        long pc;
        try {
            pc = directory.pcAddress(info.pdt, info.pdtMode, pasid, true);
        } catch (KernelException e) {
            if (pri) {
                iopfRefs.forDomainRemove(domain, info); // as intel_svm_set_dev_pasid()'s unwind: no IOPF reference left
            }
            throw e;
        }
        RiscvProcessContext ctx = RiscvProcessContext.of(pscid, 0,
                RiscvDeviceContext.encodeAtp(RiscvPagingMode.SV48.encoding(), domain.mm().pgd()));
        iommu.memory.writeLong(pc + 8, ctx.fsc());
        iommu.memory.writeLong(pc, ctx.ta());
        cmdq.sendAndSync(RiscvCommand.iodirInvalPdt(info.devid(), pasid));
        iommu.trace("riscv_iommu_set_dev_pasid", "PASID %d of %s -> PSCID %d, Sv48 table %#x (%s)", pasid,
                info.dev().name(), pscid, domain.mm().pgd(), domain.mm().name());
    }

    /**
     * The blocked domain at a PASID where the SVA domain {@code domain} (PSCID {@code pscid}) was, modelled on the VT-d
     * teardown and the RISC-V guidelines for a process-context change: IOPF disabled (PRI off, then
     * {@code iopf_queue_remove_device()}, which answers pending groups INVALID), the process context cleared (V = 0),
     * {@code IODIR.INVAL_PDT} + {@code IOTINVAL.VMA} (the domain's PSCID) + {@code IOFENCE.C}, then the function's ATC:
     * {@code ATS.INVAL} for the PASID over every address + {@code IOFENCE.C} (IOATC before DevATC, so a translation
     * request cannot refill the ATC from a stale IOTLB entry). The last fence completes when the function's Invalidate
     * Completion arrives (see {@link CommandQueue}).
     */
    void removeDevPasid(RiscvDeviceInfo info, int pasid, IommuDomain domain, int pscid) {
        if (info.priSupported()) {
            iopfRefs.forDomainRemove(domain, info);
        }
        long pc = info.pdt == 0 ? -1 : directory.pcAddress(info.pdt, info.pdtMode, pasid, false);
        if (pc < 0) {
            return;
        }
        boolean done = invalidateProcessContext(info, pc, pasid, pscid, false);
        iommu.trace("riscv_iommu_remove_dev_pasid", "PASID %d of %s: PC invalid, PSCID %d flushed, ATS.INVAL%s",
                pasid, info.dev().name(), pscid, done ? " done" : " waiting for the Invalidate Completion");
        drainPageRequests(info, pasid);
    }

    /**
     * Clears the process context at {@code pc} and flushes what may cache it: {@code IODIR.INVAL_PDT} +
     * {@code IOTINVAL.VMA} of {@code pscid} + {@code IOFENCE.C}, then {@code ATS.INVAL} of the PASID over every address
     * + {@code IOFENCE.C}; with {@code wait} the caller sleeps until that fence executed.
     *
     * @return whether the last fence has executed (without {@code wait} it may still wait for the function's
     *         Invalidate Completion)
     */
    private boolean invalidateProcessContext(RiscvDeviceInfo info, long pc, int pasid, int pscid, boolean wait) {
        iommu.memory.writeLong(pc, 0);
        iommu.memory.writeLong(pc + 8, 0);
        cmdq.sendAndSync(RiscvCommand.iodirInvalPdt(info.devid(), pasid),
                RiscvCommand.iotinvalVma(false, 0, true, pscid, false, 0));
        RiscvCommand inval = RiscvCommand.atsInval(info.devid(), true, pasid, false, 0, 4096);
        RiscvCommand all = new RiscvCommand(inval.qw0(), RiscvIommuDriver.ATS_INVAL_ALL);
        return wait ? cmdq.sendAndWait(all) : cmdq.sendAndSync(all);
    }

    /**
     * The lab's RISC-V release of an SVA process context (see {@link RiscvSvaDomain}): the context is cleared and its
     * caches flushed as at detach — waiting for the function's Invalidate Completion, since the page tables go next —
     * but IOPF stays enabled and nothing is drained; the detach that follows does the rest.
     */
    void clearProcessContext(RiscvDeviceInfo info, int pasid, int pscid) {
        long pc = info.pdt == 0 ? -1 : directory.pcAddress(info.pdt, info.pdtMode, pasid, false);
        if (pc < 0) {
            return;
        }
        invalidateProcessContext(info, pc, pasid, pscid, true);
    }

    /**
     * The lab's page-request drain for a PASID taken out of use, the RISC-V counterpart of
     * intel_iommu_drain_pasid_prq() (the RISC-V specification prescribes none, reference/iommu-hardware.md §2.4.5
     * [UNVERIFIED]; a documented option). As on VT-d it runs only while the device keeps another fault-capable
     * attachment (with none left, iopf_queue_remove_device() already answered everything pending), and sleeps:
     * (1) while a record of the device for the PASID waits in the page-request queue, until the thread's next pass;
     * (2) until the device's iopf work is flushed ({@code iopf_queue_flush_dev()}); (3) while {@code pqcsr} shows
     * dropped requests ({@code pqof}/{@code pqmf}), until the thread's pass has recovered. The command set has no
     * page-request drain such as VT-d's wait descriptor with PD, so a request still inside the IOMMU when the scan
     * runs is not waited for: the device driver's PASID stop (Stop Marker) is what guarantees none is left.
     * {@code pasid} 0 ({@code IOMMU_NO_PASID}) is the RID: records without PASID (PV = 0) count for it.
     */
    void drainPageRequests(RiscvDeviceInfo info, int pasid) {
        if (requests == null || info.iopfRefcount() == 0) {
            return;
        }
        int passes = 0;
        requests.passDone.reinit();
        while (requests.unconsumed(info.devid(), pasid) || requests.overflowed()) {
            requests.passDone.waitFor();
            passes++;
        }
        Completion flushed = new Completion("iopf_queue_flush_dev", iommu.loop);
        try {
            iopf.queueFlushDev(info.dev(), flushed::complete);
            flushed.waitFor();
        } catch (KernelException e) {
            // the drain ignores iopf_queue_flush_dev()'s ENODEV: the device left its iopf queue already
        }
        iommu.trace("riscv_iommu_remove_dev_pasid", "PASID %d of %s drained (%d page-request pass(es) awaited)", pasid,
                info.dev().name(), passes);
    }
}
