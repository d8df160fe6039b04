package dev.iommulab.hw.viommu;

/**
 * A request the device did not answer OK: what it was, its status (null when it was returned unwritten or broke the
 * device), and whether the device's domains, attachments or mappings differ after it — what the lab's
 * {@code refused-requests-change-nothing} invariant reads.
 */
public record ViommuRefusal(String request, ViommuStatus status, boolean changedState) {
}
