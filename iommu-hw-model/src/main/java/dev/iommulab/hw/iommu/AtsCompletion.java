package dev.iommulab.hw.iommu;

/**
 * The completion of an ATS Translation Request. A {@link CompletionStatus#SUCCESS} completion with
 * {@code read == write == false} means "not accessible now" and produces no fault record.
 *
 * @param translatedAddr physical address of the page (meaningful when read or write is granted)
 * @param pageSize       size of the translation
 */
public record AtsCompletion(CompletionStatus status, long translatedAddr, long pageSize, boolean read,
                            boolean write, boolean exe, boolean priv) {

    public static AtsCompletion notAccessible() {
        return new AtsCompletion(CompletionStatus.SUCCESS, 0, 4096, false, false, false, false);
    }

    public static AtsCompletion error(CompletionStatus status) {
        if (status == CompletionStatus.SUCCESS) {
            throw new IllegalArgumentException("an error completion needs UR or CA");
        }
        return new AtsCompletion(status, 0, 0, false, false, false, false);
    }

    /** Whether the completion grants {@code write ? write : read} (and exec if asked). */
    public boolean grants(boolean needWrite, boolean needExec) {
        if (status != CompletionStatus.SUCCESS) {
            return false;
        }
        return (needWrite ? write : read) && (!needExec || exe);
    }
}
