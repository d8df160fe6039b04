package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.Iotlb;
import dev.iommulab.hw.iommu.RecentTranslations;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;

/**
 * The RISC-V "Process to translate an IOVA" (riscv-iommu "Data Structures"), steps 1 to 20, each cause at
 * its step: 256 (Off), 260 (Bare and not Untranslated; device_id too wide; ATS/Translated without EN_ATS;
 * process_id without PDTV or too wide; supervisor without ENS), 257-259 (GET_DC), 265-267 (GET_PC), then
 * page, guest-page and access faults of the two-stage walk (reference/iommu-hardware.md §2.4.1). Untranslated
 * requests use and fill the IOTLB; ATS Translation Requests walk without R/W/X checks and report the rights
 * ("PCIe ATS translation request handling").
 *
 * <p>An untranslated request answered from the caches alone (device-context, process-context when used, and
 * IOTLB hits) is remembered in {@link RecentTranslations}, which answers the same transaction again while the
 * caches are unchanged, without the lookups (docs/performance.md, "Issue 14"); nothing a transaction can
 * observe differs.
 */
final class TranslationProcess {

    /**
     * The outcome, the {@code DTF} that applies to its record (0 when no device context was located), and
     * the device context when one was located.
     */
    record Result(Outcome outcome, boolean dtf, RiscvDeviceContext dc) {

        static Result fault(int cause, HwFaultReason reason, RiscvDeviceContext dc) {
            return new Result(Outcome.Fault.of(cause, reason), dc != null && dc.has(RiscvDeviceContext.TC_DTF), dc);
        }
    }

    /** Transactions remembered by {@link #recent}. */
    private static final int RECENT_TRANSLATIONS = 64;

    private final DeviceContextWalk dcWalk;
    private final ProcessContextWalk pcWalk;
    private final TwoStageTranslation twoStage;
    private final Iotlb<IotlbEntry> iotlb;
    private RecentTranslations<Transaction, Result> recent;
    /** Set when the transaction being translated was answered by an IOTLB hit. */
    private boolean iotlbHit;
    /** Set when the transaction being translated looked its process context up. */
    private boolean usedProcessContext;

    TranslationProcess(PhysicalMemory memory, RiscvConfig config) {
        ContextChecks checks = new ContextChecks(config);
        this.twoStage = new TwoStageTranslation(memory);
        this.dcWalk = new DeviceContextWalk(memory, checks, config.ddtCacheEntries());
        this.pcWalk = new ProcessContextWalk(memory, checks, twoStage.gStage(), config.pdtCacheEntries());
        this.iotlb = new Iotlb<>(config.iotlbEntries(), IotlbEntry.FILED_PAGE);
        this.recent = new RecentTranslations<>(RECENT_TRANSLATIONS, dcWalk.cache(), pcWalk.cache(), iotlb);
    }

    /** Turns {@link RecentTranslations} off, for the tests that compare an IOMMU with and without it. */
    void forgetRecentTranslations() {
        recent = new RecentTranslations<>(0, dcWalk.cache(), pcWalk.cache(), iotlb);
    }

    DeviceContextWalk deviceContexts() {
        return dcWalk;
    }

    ProcessContextWalk processContexts() {
        return pcWalk;
    }

    Iotlb<IotlbEntry> iotlb() {
        return iotlb;
    }

    Result translate(long ddtp, Transaction t) {
        long epoch = recent.epoch();
        int hash = t.did() * 31 + t.pid() ^ (int) (t.addr() >>> 12);
        Result recalled = recent.lookup(hash, t, ddtp, epoch);
        if (recalled != null) {
            return recalled;
        }
        iotlbHit = false;
        usedProcessContext = false;
        Result result = steps(ddtp, t);
        if (iotlbHit) {
            recent.record(hash, t, ddtp, epoch, usedProcessContext, result);
        }
        return result;
    }

    /** Steps 1 to 20 through the caches. */
    private Result steps(long ddtp, Transaction t) {
        int mode = (int) (ddtp & RiscvRegs.DDTP_MODE_MASK);
        if (mode == RiscvRegs.DDTP_MODE_OFF) {
            return Result.fault(RiscvCause.ALL_INBOUND_DISALLOWED, HwFaultReason.IOMMU_BLOCKED_ALL, null);
        }
        if (mode == RiscvRegs.DDTP_MODE_BARE) {
            return t.kind() == Transaction.Kind.UNTRANSLATED
                    ? new Result(Outcome.Page.identity(t.addr()), false, null)
                    : Result.fault(RiscvCause.TRANSACTION_TYPE_DISALLOWED, HwFaultReason.REQUEST_TYPE_DISALLOWED, null);
        }
        Located<RiscvDeviceContext> located = dcWalk.locate(ddtp, t.did());
        if (!located.ok()) {
            return new Result(located.fault(), false, null);
        }
        RiscvDeviceContext dc = located.context();
        boolean dtf = dc.has(RiscvDeviceContext.TC_DTF);
        HwFaultReason disallowed = disallowed(dc, t);
        if (disallowed != null) {
            return Result.fault(RiscvCause.TRANSACTION_TYPE_DISALLOWED, disallowed, dc);
        }
        AddressSpace as = new AddressSpace(AddressSpace.gStageMode(dc.iohgatpMode()), dc.iohgatpRoot(), dc.gscid(),
                dc.has(RiscvDeviceContext.TC_GADE), null, 0, 0, dc.has(RiscvDeviceContext.TC_SADE), false);
        if (t.kind() == Transaction.Kind.TRANSLATED) {
            Outcome out = dc.has(RiscvDeviceContext.TC_T2GPA)
                    ? twoStage.gStage().translate(as, t.addr(), t.access(), true) : Outcome.Page.identity(t.addr());
            return new Result(out, dtf, dc);
        }
        boolean pv = t.pv();
        int pid = t.pid();
        boolean priv = t.priv();
        if (dc.has(RiscvDeviceContext.TC_PDTV) && dc.has(RiscvDeviceContext.TC_DPE) && !pv) {
            pv = true; // step 11: default process_id 0
            pid = 0;
            priv = false;
        }
        if (!dc.has(RiscvDeviceContext.TC_PDTV)) {
            as = as.withFirstStage(AddressSpace.firstStageMode(dc.fscMode()), dc.fscRoot(), dc.pscid(), false);
        } else if (pv && dc.fscMode() != RiscvDeviceContext.MODE_BARE) {
            usedProcessContext = true;
            Located<RiscvProcessContext> pc = pcWalk.locate(dc, as, t.did(), pid, t.access());
            if (!pc.ok()) {
                return new Result(pc.fault(), dtf, dc);
            }
            if (priv && !pc.context().has(RiscvProcessContext.TA_ENS)) {
                return Result.fault(RiscvCause.TRANSACTION_TYPE_DISALLOWED, HwFaultReason.PERMISSION_PRIVILEGE, dc);
            }
            as = as.withFirstStage(AddressSpace.firstStageMode(pc.context().fscMode()), pc.context().fscRoot(), pc.context().pscid(),
                    pc.context().has(RiscvProcessContext.TA_SUM));
        }
        Outcome out = t.kind() == Transaction.Kind.ATS ? atsWalk(as, t, priv) : untranslated(as, t, priv);
        return new Result(out, dtf, dc);
    }

    /** Step 7 (and the PASID width of step 7c): why the transaction type is disallowed, or null. */
    private static HwFaultReason disallowed(RiscvDeviceContext dc, Transaction t) {
        if (t.kind() != Transaction.Kind.UNTRANSLATED && !dc.has(RiscvDeviceContext.TC_EN_ATS)) {
            return HwFaultReason.REQUEST_TYPE_DISALLOWED;
        }
        if (t.pv() && !dc.has(RiscvDeviceContext.TC_PDTV)) {
            return HwFaultReason.REQUEST_TYPE_DISALLOWED;
        }
        if (t.pv()) {
            int bits = switch (dc.fscMode()) {
                case RiscvDeviceContext.PDTP_PD8 -> 8;
                case RiscvDeviceContext.PDTP_PD17 -> 17;
                default -> 20;
            };
            if (t.pid() >>> bits != 0) {
                return HwFaultReason.PASID_OUT_OF_RANGE;
            }
        }
        return null;
    }

    private Outcome untranslated(AddressSpace as, Transaction t, boolean supervisor) {
        boolean cached = as.firstStage() || as.gStage();
        IotlbEntry hit = cached ? iotlb.lookup(IotlbEntry.tag(as), t.addr()) : null;
        if (hit != null && hit.allows(as, t.access(), supervisor)) {
            iotlbHit = true;
            return hit.page(t.addr());
        }
        Outcome out = twoStage.translate(as, t.addr(),
                new RiscvWalkRequest(t.access(), supervisor, supervisor && as.sum(), false, true));
        if (cached && out instanceof Outcome.Page page) {
            iotlb.fill(IotlbEntry.tag(as), t.addr(), IotlbEntry.FILED_PAGE, IotlbEntry.of(t.addr(), page));
        }
        return out;
    }

    /**
     * An ATS Translation Request: walk for read without rights checks; when write is asked for (NW = 0) and
     * the page is writable but not dirty, walk again as a write, which sets D with SADE/GADE and otherwise
     * faults — then the completion grants R without W (D = 1 is needed to grant W).
     */
    private Outcome atsWalk(AddressSpace as, Transaction t, boolean supervisor) {
        boolean sum = supervisor && as.sum();
        Outcome read = twoStage.translate(as, t.addr(), new RiscvWalkRequest(Access.READ, supervisor, sum, false, false));
        if (!(read instanceof Outcome.Page page) || t.noWrite() || !page.writable() || page.dirty()) {
            return read;
        }
        Outcome write = twoStage.translate(as, t.addr(),
                new RiscvWalkRequest(Access.WRITE, supervisor, sum, false, false));
        if (write instanceof Outcome.Page) {
            return write;
        }
        return new Outcome.Page(page.addr(), page.gpa(), page.pageSize(), page.readable(), false, page.executable(),
                page.user(), page.global(), false);
    }
}
