package dev.iommulab.hw.pci;

/**
 * Settings of a function beyond its capability list: PCIe Device Control values software programs,
 * read-only capability/status bits fixed by the design, and fault knobs for failure scenarios.
 *
 * @param mps                        Max_Payload_Size in bytes (PCIe Device Control: 128..4096, a power of
 *                                   two), also used as Max_Read_Request_Size; 0 = the profile's default
 *                                   (nvme 512 B, every other profile 4096 B, i.e. one request per page)
 * @param readTags                   tags for outstanding non-posted requests (reads and ATS Translation
 *                                   Requests), 1..1024; 32 = the 5-bit Tag field without Extended Tags
 * @param multiPageGroups            accelerator profile: a not-accessible page makes the function request the
 *                                   rest of the work item's range in one page request group (several requests
 *                                   with one PRGI, L on the last) instead of a one-page group
 * @param prgResponsePasidRequired   PRI status bit PRG Response PASID Required (PCIe r4.0 §10.5.2.3)
 * @param globalInvalidateSupported  ATS capability bit Global Invalidate Supported: when clear the function
 *                                   ignores the Global Invalidate bit of ATS Invalidate Requests
 * @param invalidationsNeverComplete fault knob: the function drops the ATC entries an ATS Invalidate Request
 *                                   covers but never sends the Invalidate Completion (IOMMU timeout scenarios)
 * @param virtualFunction            the function is an SR-IOV Virtual Function ({@code pci_dev->is_virtfn}); its
 *                                   PRI capability is shared with the PF, which iommufd refuses to hand to user space
 */
public record EndpointOptions(int mps, int readTags, boolean multiPageGroups, boolean prgResponsePasidRequired,
                              boolean globalInvalidateSupported, boolean invalidationsNeverComplete,
                              boolean virtualFunction) {

    /** Profile-default MPS, 32 tags, one-page groups, PASID not required, Global Invalidate supported, a physical function. */
    public static final EndpointOptions DEFAULTS = new EndpointOptions(0, 32, false, false, true, false, false);

    public EndpointOptions {
        if (mps != 0 && (mps < 128 || mps > 4096 || Integer.bitCount(mps) != 1)) {
            throw new IllegalArgumentException("mps must be 0 or a power of two in 128..4096: " + mps);
        }
        if (readTags < 1 || readTags > 1024) {
            throw new IllegalArgumentException("readTags must be 1..1024: " + readTags);
        }
    }

    public EndpointOptions withMps(int bytes) {
        return new EndpointOptions(bytes, readTags, multiPageGroups, prgResponsePasidRequired,
                globalInvalidateSupported, invalidationsNeverComplete, virtualFunction);
    }

    public EndpointOptions withReadTags(int tags) {
        return new EndpointOptions(mps, tags, multiPageGroups, prgResponsePasidRequired, globalInvalidateSupported,
                invalidationsNeverComplete, virtualFunction);
    }

    public EndpointOptions withMultiPageGroups(boolean on) {
        return new EndpointOptions(mps, readTags, on, prgResponsePasidRequired, globalInvalidateSupported,
                invalidationsNeverComplete, virtualFunction);
    }

    public EndpointOptions withPrgResponsePasidRequired(boolean on) {
        return new EndpointOptions(mps, readTags, multiPageGroups, on, globalInvalidateSupported,
                invalidationsNeverComplete, virtualFunction);
    }

    public EndpointOptions withGlobalInvalidateSupported(boolean on) {
        return new EndpointOptions(mps, readTags, multiPageGroups, prgResponsePasidRequired, on,
                invalidationsNeverComplete, virtualFunction);
    }

    public EndpointOptions withInvalidationsNeverComplete(boolean on) {
        return new EndpointOptions(mps, readTags, multiPageGroups, prgResponsePasidRequired,
                globalInvalidateSupported, on, virtualFunction);
    }

    public EndpointOptions withVirtualFunction(boolean on) {
        return new EndpointOptions(mps, readTags, multiPageGroups, prgResponsePasidRequired,
                globalInvalidateSupported, invalidationsNeverComplete, on);
    }
}
