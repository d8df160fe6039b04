package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.CompletionStatus;

/**
 * What a translation grants a request. For an untranslated request, the fault it raises (legacy 0x05 /
 * 0x06; scalable U/S 0x81, write 0x85, execute 0x82, read 0x86, and 0x87 for an output address in the
 * interrupt range 0xFEE0_0000-0xFEEF_FFFF). For an ATS Translation Request, the completion: the rights
 * the tables allow (partial rights included), execute only together with read and only with ERE, and
 * R = W = 0 for a user request to a supervisor page (reference/iommu-hardware.md §1.3).
 */
final class AccessRights {

    static final long INTERRUPT_RANGE_BASE = 0xfee0_0000L;
    static final long INTERRUPT_RANGE_SIZE = 0x10_0000L;

    private AccessRights() {
    }

    /** The fault an untranslated request meets with this translation, or null when it may proceed. */
    static VtdFaultReason check(RemappingEngine.Result res, long pa) {
        Translation t = res.translation();
        RemappingEngine.Request r = res.effective();
        if (!res.scalable()) {
            if (r.write()) {
                return t.write() ? null : VtdFaultReason.WRITE_DENIED;
            }
            return t.read() ? null : VtdFaultReason.READ_DENIED;
        }
        if (t.kind().usesFirstStage() && !r.priv() && !t.user()) {
            return VtdFaultReason.FL_US_VIOLATION;
        }
        if (r.write() && !t.write()) {
            return VtdFaultReason.NO_WRITE;
        }
        if (!r.write() && r.exec() && !t.exec()) {
            return VtdFaultReason.NO_EXECUTE;
        }
        if (!r.write() && !r.exec() && !t.read()) {
            return VtdFaultReason.NO_READ;
        }
        if (pa - INTERRUPT_RANGE_BASE >= 0 && pa - INTERRUPT_RANGE_BASE < INTERRUPT_RANGE_SIZE) {
            return VtdFaultReason.INTERRUPT_ADDRESS;
        }
        return null;
    }

    /** The ATS completion for a translation request that found a translation. */
    static AtsCompletion completion(RemappingEngine.Result res) {
        Translation t = res.translation();
        RemappingEngine.Request r = res.effective();
        if (!r.priv() && !t.user()) {
            return AtsCompletion.notAccessible();
        }
        boolean read = t.read();
        boolean write = t.write() && r.write();
        if (!read && !write) {
            return AtsCompletion.notAccessible();
        }
        boolean ere = res.pasidEntry() == null || res.pasidEntry().ere();
        boolean exe = read && t.exec() && ere && res.scalable() && r.pasidPresent();
        return new AtsCompletion(CompletionStatus.SUCCESS, t.pa(r.addr()) & ~0xfffL, 4096, read, write, exe, r.priv());
    }
}
