package dev.iommulab.hw.vtd;

/**
 * A present context entry as the unit uses it, read from memory or from the context cache: a legacy
 * 16-byte entry ({@code struct context_entry}) or the first two qwords of a scalable 32-byte one.
 *
 * @param fpd the entry's fault processing disable bit
 */
record ContextEntry(boolean scalable, long lo, long hi, boolean fpd) {

    // ---- legacy ----

    /** Translation type (legacy). */
    int tt() {
        return (int) ((lo & VtdEntries.CTX_TT_MASK) >>> VtdEntries.CTX_TT_SHIFT);
    }

    /** Address width (legacy): 1, 2, 3 for 3-, 4-, 5-level second-level tables. */
    int aw() {
        return (int) (hi & VtdEntries.CTX_AW_MASK);
    }

    /** Second-level page table pointer (legacy). */
    long slptptr() {
        return lo & VtdEntries.ADDR_MASK;
    }

    /** Domain ID (legacy; scalable entries carry none). */
    int did() {
        return scalable ? -1 : (int) ((hi >>> VtdEntries.CTX_DID_SHIFT) & 0xffff);
    }

    // ---- scalable ----

    boolean dte() {
        return (lo & VtdEntries.CTX_DTE) != 0;
    }

    boolean pasidEnabled() {
        return (lo & VtdEntries.CTX_PASIDE) != 0;
    }

    boolean pre() {
        return (lo & VtdEntries.CTX_PRE) != 0;
    }

    long pasidDir() {
        return lo & VtdEntries.ADDR_MASK;
    }

    long pasidLimit() {
        return VtdEntries.pasidLimit(lo);
    }

    int ridPasid() {
        return (int) (hi & VtdEntries.CTX_RID_PASID_MASK);
    }
}
