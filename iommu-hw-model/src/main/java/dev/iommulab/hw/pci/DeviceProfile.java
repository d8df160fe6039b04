package dev.iommulab.hw.pci;

/**
 * How a function's DMA engine reacts to errors (reference/iommu-hardware.md §4; the reactions are
 * engineering expectations, [UNVERIFIED] as normative text). Every profile uses ATS and PRI when software
 * enabled them, retires a read tag on any completion, goes on after a lost posted write, and becomes
 * non-functional until FLR when a descriptor fetch fails.
 */
public enum DeviceProfile {
    /**
     * SVA accelerator (ATS + PRI): Invalid Request fails the work item with the faulting address; a
     * Response Failure disables PRI until FLR or re-enable, so every later miss is a hard error;
     * optionally requests a whole range in one page request group ({@link EndpointOptions#multiPageGroups}).
     */
    ACCELERATOR,
    /** A NIC: a failed read drops the frame (the work item ends with the error) and the device goes on. */
    NIC,
    /**
     * An NVMe controller: transfers are split into MPS-sized requests (default 512 B, so one bad 4 KiB page
     * faults 8 times); a failed read fails the command with Data Transfer Error.
     */
    NVME,
    /** A plain DMA master: one request per page; an error ends the work item. */
    GENERIC
}
