package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.Completion;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.iopf.IoPgfault;
import java.util.ArrayList;
import java.util.List;

/**
 * Taking a PASID entry (or the RID's, {@link IommuCore#IOMMU_NO_PASID}) out of use: intel_pasid_tear_down_entry()
 * and intel_pasid_flush_present() (drivers/iommu/intel/pasid.c) and intel_iommu_drain_pasid_prq()
 * (drivers/iommu/intel/prq.c), reference/linux-fault-stack.md §4.3 and reference/iommu-hardware.md §2.1.5.
 *
 * <p>The drain runs in process context and sleeps as the kernel's does ({@link Completion},
 * {@link QueuedInvalidation#submitSyncWaitDrain}): the caller of a detach or replace returns only once it is over.
 */
final class PasidTeardown {

    private final IntelUnit iommu;
    private final PrqHandler prq;
    private final IoPgfault iopf;

    PasidTeardown(IntelUnit iommu, PrqHandler prq) {
        this.iommu = iommu;
        this.prq = prq;
        this.iopf = iommu.iopf();
    }

    /**
     * Counterpart of intel_pasid_tear_down_entry(): a present entry is cleared — with {@code faultIgnore} left not
     * present with FPD set, so the unit drops what arrives for it silently (process exit) — its caches flushed and,
     * unless {@code faultIgnore}, the page requests drained. An entry left with FPD by an earlier teardown is cleared
     * and drained; an absent one is left alone.
     *
     * @return the DID the entry had, 0 when it was not present
     */
    int tearDownEntry(DeviceInfo info, int pasid, boolean faultIgnore) {
        PasidTables tables = iommu.tables();
        int pgtt = tables.pgtt(info.pasidDir, pasid);
        if (pgtt == 0) {
            if (tables.faultDisabled(info.pasidDir, pasid)) {
                tables.tearDown(info.pasidDir, pasid, false);
                iommu.trace("intel_pasid_tear_down_entry", "%s PASID %d: fault-disabled entry cleared",
                        info.dev().name(), pasid);
                drainPasidPrq(info, pasid);
            }
            return 0;
        }
        int did = tables.tearDown(info.pasidDir, pasid, faultIgnore);
        flushPresent(info, pasid, did, pgtt);
        iommu.trace("intel_pasid_tear_down_entry", "%s PASID %d: entry cleared%s (DID %d)", info.dev().name(), pasid,
                faultIgnore ? ", fault processing disabled" : "", did);
        if (!faultIgnore) {
            drainPasidPrq(info, pasid);
        }
        return did;
    }

    /**
     * The flushes for an entry that was present with {@code pgtt} and {@code did} (intel_pasid_flush_present(),
     * and those of intel_pasid_tear_down_entry()): PASID cache, then PASID-IOTLB for a first-stage or pass-through
     * entry or the domain's IOTLB otherwise, then the device-TLB of an ATS function. The caller waits as
     * qi_submit_sync() spins: until the function's Invalidate Completion came back, so that nothing it translated
     * before reaches memory afterwards — on process exit the pages are freed next.
     */
    void flushPresent(DeviceInfo info, int pasid, int did, int pgtt) {
        List<QiDescriptor> d = new ArrayList<>();
        d.add(QiDescriptor.pasidCache(did, pasid));
        d.add(pgtt == VtdEntries.PGTT_FIRST_STAGE || pgtt == VtdEntries.PGTT_PASS_THROUGH
                ? QiDescriptor.pasidIotlbAll(did, pasid) : QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, did, 0, 0, false));
        if (info.pci().atsEnabled()) {
            d.add(IntelDomains.deviceTlbAll(info.rid(), pasid));
        }
        iommu.qi().submitSyncAndWait(iommu.loop(), d.toArray(QiDescriptor[]::new));
    }

    /**
     * Counterpart of intel_iommu_drain_pasid_prq(): nothing when the device has no fault-capable attachment left
     * ({@code iopf_refcount} 0). Otherwise (1) while a descriptor of this RID and PASID waits unconsumed in the
     * ring, sleep until the PRQ thread finishes a pass and look again; (2) flush the device's iopf work
     * ({@code iopf_queue_flush_dev()}); (3) submit a fenced wait, an IOTLB invalidation for the PASID (PASID-IOTLB,
     * or the domain's IOTLB for the RID) and a device-TLB invalidation, and a Page-request Drain wait, and sleep
     * until it completes; (4) if PRO is set then, sleep until the PRQ thread's next pass and repeat (3).
     */
    void drainPasidPrq(DeviceInfo info, int pasid) {
        if (info.iopfRefcount() == 0) {
            return;
        }
        int did = info.ridDomain() == null ? IntelDomains.FLPT_DEFAULT_DID : info.ridDomain().did();
        int waits = 0;
        prq.prqComplete.reinit();
        while (prq.unconsumed(info.rid(), pasid)) {
            prq.prqComplete.waitFor();
            waits++;
            prq.prqComplete.reinit();
        }
        Completion flushed = new Completion("iopf_queue_flush_dev", iommu.loop());
        try {
            iopf.queueFlushDev(info.dev(), flushed::complete);
            flushed.waitFor();
        } catch (KernelException e) {
            // the drain ignores iopf_queue_flush_dev()'s ENODEV: the device left its iopf queue already
        }
        QiDescriptor[] desc = {
            QiDescriptor.invalidationWaitFlags(QiDescriptor.IWD_FENCE),
            pasid == IommuCore.IOMMU_NO_PASID ? QiDescriptor.iotlb(QiDescriptor.IOTLB_DOMAIN, did, 0, 0, false)
                    : QiDescriptor.pasidIotlbAll(did, pasid),
            IntelDomains.deviceTlbAll(info.rid(), pasid),
        };
        int retries = 0;
        while (true) {
            prq.prqComplete.reinit();
            if (!iommu.qi().submitSyncWaitDrain(iommu.loop(), desc)) {
                iommu.trace("intel_iommu_drain_pasid_prq",
                        "%s PASID %d: the invalidation queue stopped, drain incomplete", info.dev().name(), pasid);
                return;
            }
            if ((iommu.unit().readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO) == 0) {
                break;
            }
            prq.prqComplete.waitFor();
            retries++;
        }
        iommu.trace("intel_iommu_drain_pasid_prq",
                "%s PASID %d drained (%d PRQ pass(es) awaited, %d retry(ies) after PRO)", info.dev().name(), pasid,
                waits, retries);
    }
}
