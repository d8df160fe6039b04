package dev.iommulab.hw.vtd;

/**
 * A 256-bit queued-invalidation descriptor (VT-d spec §6.5.2), and encoders for the kinds software
 * submits (same field positions as the kernel's {@code QI_*} macros in drivers/iommu/intel/iommu.h).
 */
public record QiDescriptor(long qw0, long qw1, long qw2, long qw3) {

    public static final int TYPE_CONTEXT_CACHE = 0x1;
    public static final int TYPE_IOTLB = 0x2;
    public static final int TYPE_DEVICE_TLB = 0x3;
    public static final int TYPE_INTERRUPT_ENTRY_CACHE = 0x4;
    public static final int TYPE_WAIT = 0x5;
    public static final int TYPE_PASID_IOTLB = 0x6;
    public static final int TYPE_PASID_CACHE = 0x7;
    public static final int TYPE_PASID_DEVICE_TLB = 0x8;
    public static final int TYPE_PAGE_GROUP_RESPONSE = 0x9;

    /** Wait descriptor: status write. */
    public static final long IWD_STATUS_WRITE = 1L << 5;
    /** Wait descriptor: fence. */
    public static final long IWD_FENCE = 1L << 6;
    /** Wait descriptor: page request drain. */
    public static final long IWD_PRQ_DRAIN = 1L << 7;

    /** Descriptor type: bits 3:0 and 11:9 of qword 0. */
    public int type() {
        return (int) ((qw0 & 0xf) | ((qw0 >>> 5) & 0x70));
    }

    /**
     * Page group response (type 0x9): PASID, RID and response code in qword 0, PRG index and LPIG in
     * qword 1. The code field is 4 bits and is sent to the function unchanged.
     */
    public static QiDescriptor pageGroupResponse(int rid, boolean pasidPresent, int pasid, int code, int prgIndex,
                                                 boolean lpig) {
        long qw0 = TYPE_PAGE_GROUP_RESPONSE | (pasidPresent ? 1L << 4 : 0) | (long) (code & 0xf) << 12
                | (long) (rid & 0xffff) << 16 | (long) (pasid & 0xfffff) << 32;
        long qw1 = (lpig ? 1L << 2 : 0) | (long) (prgIndex & 0x1ff) << 3;
        return new QiDescriptor(qw0, qw1, 0, 0);
    }

    /** Invalidation wait (type 0x5) writing {@code statusData} to {@code statusAddr}. */
    public static QiDescriptor invalidationWait(int statusData, long statusAddr, long flags) {
        return new QiDescriptor(TYPE_WAIT | IWD_STATUS_WRITE | flags | (long) statusData << 32, statusAddr, 0, 0);
    }

    /** PASID-based IOTLB invalidation (type 0x6) of all mappings of a PASID in a domain. */
    public static QiDescriptor pasidIotlbAll(int domainId, int pasid) {
        return new QiDescriptor(TYPE_PASID_IOTLB | (long) (domainId & 0xffff) << 16 | (long) (pasid & 0xfffff) << 32
                | 1L << 4, 0, 0, 0);
    }

    /** PASID-cache invalidation (type 0x7), PASID-selective within a domain. */
    public static QiDescriptor pasidCache(int domainId, int pasid) {
        return new QiDescriptor(TYPE_PASID_CACHE | (long) (domainId & 0xffff) << 16 | (long) (pasid & 0xfffff) << 32
                | 1L << 4, 0, 0, 0);
    }

    /** PASID-based device-TLB invalidation (type 0x8) of the whole address space of a PASID. */
    public static QiDescriptor pasidDeviceTlbAll(int sid, int pasid) {
        return new QiDescriptor(TYPE_PASID_DEVICE_TLB | (long) (sid & 0xffff) << 16 | (long) (pasid & 0xfffff) << 32,
                0x7fff_ffff_ffff_f000L | 1L << 11, 0, 0);
    }

    // fields of a page group response
    int pgrpRid() {
        return (int) ((qw0 >>> 16) & 0xffff);
    }

    boolean pgrpPasidPresent() {
        return (qw0 & (1L << 4)) != 0;
    }

    int pgrpPasid() {
        return (int) ((qw0 >>> 32) & 0xfffff);
    }

    int pgrpCode() {
        return (int) ((qw0 >>> 12) & 0xf);
    }

    int pgrpIndex() {
        return (int) ((qw1 >>> 3) & 0x1ff);
    }
}
