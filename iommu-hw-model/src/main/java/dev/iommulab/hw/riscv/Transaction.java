package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.pgtable.Access;

/**
 * An inbound transaction as the RISC-V translate process sees it: {@code device_id}, optional
 * {@code process_id} with its privilege, the kind (Untranslated, Translated, ATS Translation Request) and
 * access (riscv-iommu "Process to translate an IOVA"; TTYP table in "Fault/Event-Queue").
 *
 * @param noWrite ATS only: the function asks for a read-only translation
 * @param exe     ATS only: execute permission requested
 */
record Transaction(int did, boolean pv, int pid, boolean priv, Kind kind, Access access, long addr, boolean noWrite,
                   boolean exe) {

    enum Kind {
        UNTRANSLATED, TRANSLATED, ATS
    }

    static Transaction of(DmaRequest r) {
        Kind kind = r.addressType() == AddressType.TRANSLATED ? Kind.TRANSLATED : Kind.UNTRANSLATED;
        return new Transaction(r.rid(), r.pasidPresent(), r.pasidPresent() ? r.pasid() : 0,
                r.pasidPresent() && r.priv(), kind, r.access(), r.addr(), false, false);
    }

    static Transaction of(AtsTranslationRequest r) {
        return new Transaction(r.rid(), r.pasidPresent(), r.pasidPresent() ? r.pasid() : 0,
                r.pasidPresent() && r.priv(), Kind.ATS, Access.READ, r.addr(), r.noWrite(), r.exe());
    }

    /** The fault record's TTYP for this transaction. */
    int ttyp() {
        if (kind == Kind.ATS) {
            return RiscvFaultRecord.TTYP_ATS_TRANSLATION_REQUEST;
        }
        int exec = kind == Kind.UNTRANSLATED ? RiscvFaultRecord.TTYP_UNTRANSLATED_EXEC
                : RiscvFaultRecord.TTYP_TRANSLATED_EXEC;
        return exec + switch (access) {
            case EXEC -> 0;
            case READ -> 1;
            case WRITE -> 2;
        };
    }
}
