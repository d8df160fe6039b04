package dev.iommulab.iopf.random;

/**
 * Deliberately broken behaviours, to prove {@link InterleavingChecker} fails when io-pgfault (or what it
 * drives) misbehaves. {@link #NONE} is the real thing.
 */
enum Sabotage {
    /** Nothing broken. */
    NONE,
    /** A spy driver drops the first LPIG page response it is given (an LPIG is never answered). */
    DROP_RESPONSE,
    /**
     * The SVA work answers its group a second time straight through {@code ops->page_response}, bypassing
     * iopf_group_response()'s pending-list check (an LPIG answered twice).
     */
    DOUBLE_ANSWER,
    /** io-pgfault matches partials by grpid and PASID instead of the kernel's grpid only (wrong groups). */
    PASID_MATCH
}
