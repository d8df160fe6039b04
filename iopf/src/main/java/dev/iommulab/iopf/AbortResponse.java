package dev.iommulab.iopf;

import dev.iommulab.core.fault.PageResponseCode;

/**
 * Policy {@code iopf.abort-response}: the code err_abort of iommu_report_device_fault() sends when a
 * group cannot be dispatched (allocation failure, handler refusal). The kernel sends FAILURE (reference
 * §2.6: kept after the 2024 discussion); {@code INVALID} is the rejected proposal of Lu Baolu's series.
 */
public interface AbortResponse {

    /** The code err_abort answers with. */
    PageResponseCode code();

    /** The kernel's choice. */
    AbortResponse KERNEL = () -> PageResponseCode.FAILURE;
}
