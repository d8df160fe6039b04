package dev.iommulab.testkit.hw;

/** What an IOMMU model under test supports; contract tests for a missing capability are skipped. */
public enum ModelCapability {
    /** Requests tagged with a PASID are translated per PASID. */
    PASID,
    /** ATS Translation Requests are answered. */
    ATS,
    /** PRI Page Requests are queued for software and answered automatically when the queue is full. */
    PAGE_REQUESTS,
    /** Faults are logged for software in a bounded log that can overflow. */
    FAULT_LOG,
    /** Translations are cached, so a table change is seen only after the model's invalidation. */
    TRANSLATION_CACHE
}
