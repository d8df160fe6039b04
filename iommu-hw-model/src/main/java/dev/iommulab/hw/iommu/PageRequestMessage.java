package dev.iommulab.hw.iommu;

/**
 * A PCIe PRI Page Request Message as the IOMMU receives it (PCIe Page Request; VT-d page request
 * descriptor fields; RISC-V PQ payload).
 *
 * @param rid          requester ID (bus:dev.fn)
 * @param pasidPresent the request carried a PASID prefix
 * @param pasid        the PASID (meaningful only when present)
 * @param exe          execute requested (only with a PASID)
 * @param priv         privileged-mode request (only with a PASID)
 * @param read         read access requested
 * @param write        write access requested
 * @param last         Last Page In Group (LPIG / L)
 * @param prgi         9-bit Page Request Group Index
 * @param pageAddr     page address, bits 63:12
 * @param privateData  the request's private data, or null: PCIe Page Request Messages carry none; VT-d accepts
 *                     128 bits of it from root-complex integrated devices and echoes it in the response
 */
public record PageRequestMessage(int rid, boolean pasidPresent, int pasid, boolean exe, boolean priv,
                                 boolean read, boolean write, boolean last, int prgi, long pageAddr,
                                 PrivateData privateData) {

    /** 128 bits of device-private data that travel with a page request and come back with its response. */
    public record PrivateData(long low, long high) {
    }

    /** A request without private data, as every PCIe Page Request Message is. */
    public PageRequestMessage(int rid, boolean pasidPresent, int pasid, boolean exe, boolean priv,
                              boolean read, boolean write, boolean last, int prgi, long pageAddr) {
        this(rid, pasidPresent, pasid, exe, priv, read, write, last, prgi, pageAddr, null);
    }

    public static final int PRGI_MASK = 0x1ff;

    public PageRequestMessage {
        if ((rid & ~0xffff) != 0) {
            throw new IllegalArgumentException("rid must be 16 bits: " + rid);
        }
        if ((pasid & ~0xfffff) != 0) {
            throw new IllegalArgumentException("pasid must be 20 bits: " + pasid);
        }
        if ((prgi & ~PRGI_MASK) != 0) {
            throw new IllegalArgumentException("prgi must be 9 bits: " + prgi);
        }
        if ((pageAddr & 0xfff) != 0) {
            throw new IllegalArgumentException("pageAddr must be page aligned: " + Long.toHexString(pageAddr));
        }
    }

    /** A PASID Stop Marker: a request with a PASID, L = 1 and neither R nor W. Needs no response. */
    public boolean isStopMarker() {
        return pasidPresent && last && !read && !write;
    }
}
