package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.PageRequestMessage;

/**
 * A queued-invalidation descriptor (VT-d spec §6.5.2; 128 bits, or 256 with IQA.DW), with encoders for
 * the kinds software submits at the kernel's {@code QI_*} field positions (drivers/iommu/intel/iommu.h)
 * and the field accessors the unit decodes them with.
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
    private static final long PGRP_PDP = 1L << 5;

    /** Wait descriptor: interrupt flag (QI_IWD_IF). */
    public static final long IWD_INTERRUPT = 1L << 4;
    /** Wait descriptor: status write (QI_IWD_STATUS_WRITE). */
    public static final long IWD_STATUS_WRITE = 1L << 5;
    /** Wait descriptor: fence (QI_IWD_FENCE). */
    public static final long IWD_FENCE = 1L << 6;
    /** Wait descriptor: page request drain (QI_IWD_PRQ_DRAIN). */
    public static final long IWD_PRQ_DRAIN = 1L << 7;

    /** Context-cache granularity (QI_CC_GRAN): global, domain-selective, device-selective. */
    public static final int CC_GLOBAL = 1;
    public static final int CC_DOMAIN = 2;
    public static final int CC_DEVICE = 3;
    /** IOTLB granularity (QI_IOTLB_GRAN): global, domain-selective, page-selective within domain. */
    public static final int IOTLB_GLOBAL = 1;
    public static final int IOTLB_DOMAIN = 2;
    public static final int IOTLB_PAGE = 3;
    /** PASID-based IOTLB granularity: QI_GRAN_NONG_PASID, QI_GRAN_PSI_PASID. */
    public static final int PIOTLB_PASID = 2;
    public static final int PIOTLB_PAGE = 3;
    /** PASID-cache granularity: QI_PC_ALL_PASIDS (domain), QI_PC_PASID_SEL, QI_PC_GLOBAL. */
    public static final int PC_DOMAIN = 0;
    public static final int PC_PASID = 1;
    public static final int PC_GLOBAL = 3;

    /** Descriptor type: bits 3:0 and 11:9 of qword 0. */
    public int type() {
        return (int) ((qw0 & 0xf) | ((qw0 >>> 5) & 0x70));
    }

    /** The granularity field G, bits 5:4 (context-cache, IOTLB, PASID-IOTLB, PASID-cache). */
    public int granularity() {
        return (int) ((qw0 >>> 4) & 0x3);
    }

    // ---- encoders ----

    /** Context-cache invalidation (type 0x1, qi_flush_context()). */
    public static QiDescriptor contextCache(int granularity, int domainId, int sid, int functionMask) {
        return new QiDescriptor(TYPE_CONTEXT_CACHE | (long) (granularity & 3) << 4 | (long) (domainId & 0xffff) << 16
                | (long) (sid & 0xffff) << 32 | (long) (functionMask & 3) << 48, 0, 0, 0);
    }

    /** IOTLB invalidation (type 0x2, qi_flush_iotlb()): {@code addr} and AM for page-selective. */
    public static QiDescriptor iotlb(int granularity, int domainId, long addr, int addressMask, boolean drain) {
        return new QiDescriptor(TYPE_IOTLB | (long) (granularity & 3) << 4 | (drain ? 3L << 6 : 0)
                | (long) (domainId & 0xffff) << 16, (addr & ~0xfffL) | (addressMask & 0x3f), 0, 0);
    }

    /**
     * Device-TLB invalidation (type 0x3, qi_flush_dev_iotlb()): {@code 2^sizeOrder} pages at {@code addr},
     * encoded with the S bit (qword 1 bit 0) and the least significant zero address bit.
     */
    public static QiDescriptor deviceTlb(int sid, long addr, int sizeOrder) {
        return new QiDescriptor(TYPE_DEVICE_TLB | (long) (sid & 0xffff) << 32,
                rangeAddress(addr, sizeOrder) | (sizeOrder > 0 ? 1L : 0), 0, 0);
    }

    /** Invalidation wait (type 0x5) writing {@code statusData} to {@code statusAddr}. */
    public static QiDescriptor invalidationWait(int statusData, long statusAddr, long flags) {
        return new QiDescriptor(TYPE_WAIT | IWD_STATUS_WRITE | flags | (long) statusData << 32, statusAddr, 0, 0);
    }

    /** Invalidation wait without status write, e.g. only an interrupt (IF) or a fence. */
    public static QiDescriptor invalidationWaitFlags(long flags) {
        return new QiDescriptor(TYPE_WAIT | flags, 0, 0, 0);
    }

    /** PASID-based IOTLB invalidation (type 0x6) of all mappings of a PASID in a domain (QI_GRAN_NONG_PASID). */
    public static QiDescriptor pasidIotlbAll(int domainId, int pasid) {
        return new QiDescriptor(TYPE_PASID_IOTLB | (long) PIOTLB_PASID << 4 | (long) (domainId & 0xffff) << 16
                | (long) (pasid & 0xfffff) << 32, 0, 0, 0);
    }

    /** PASID-based IOTLB invalidation of 2^AM pages at {@code addr} (QI_GRAN_PSI_PASID). */
    public static QiDescriptor pasidIotlbPages(int domainId, int pasid, long addr, int addressMask) {
        return new QiDescriptor(TYPE_PASID_IOTLB | (long) PIOTLB_PAGE << 4 | (long) (domainId & 0xffff) << 16
                | (long) (pasid & 0xfffff) << 32, (addr & ~0xfffL) | (addressMask & 0x3f), 0, 0);
    }

    /** PASID-cache invalidation (type 0x7), PASID-selective within a domain. */
    public static QiDescriptor pasidCache(int domainId, int pasid) {
        return pasidCache(PC_PASID, domainId, pasid);
    }

    /** PASID-cache invalidation (type 0x7) with granularity {@link #PC_DOMAIN}, {@link #PC_PASID} or {@link #PC_GLOBAL}. */
    public static QiDescriptor pasidCache(int granularity, int domainId, int pasid) {
        return new QiDescriptor(TYPE_PASID_CACHE | (long) (granularity & 3) << 4 | (long) (domainId & 0xffff) << 16
                | (long) (pasid & 0xfffff) << 32, 0, 0, 0);
    }

    /** PASID-based device-TLB invalidation (type 0x8) of the whole address space of a PASID. */
    public static QiDescriptor pasidDeviceTlbAll(int sid, int pasid) {
        return new QiDescriptor(TYPE_PASID_DEVICE_TLB | (long) (sid & 0xffff) << 16 | (long) (pasid & 0xfffff) << 32,
                0x7fff_ffff_ffff_f000L | 1L << 11, 0, 0);
    }

    /** PASID-based device-TLB invalidation of {@code 2^sizeOrder} pages (qi_flush_dev_iotlb_pasid(), S = bit 11). */
    public static QiDescriptor pasidDeviceTlb(int sid, int pasid, long addr, int sizeOrder) {
        return new QiDescriptor(TYPE_PASID_DEVICE_TLB | (long) (sid & 0xffff) << 16 | (long) (pasid & 0xfffff) << 32,
                rangeAddress(addr, sizeOrder) | (sizeOrder > 0 ? 1L << 11 : 0), 0, 0);
    }

    /** The address of a sized range: bits below the size set to 1 up to (not including) the size bit. */
    private static long rangeAddress(long addr, int sizeOrder) {
        if (sizeOrder == 0) {
            return addr & ~0xfffL;
        }
        long span = 4096L << sizeOrder;
        return (addr & -span) | ((span >>> 1) - 1) & ~0xfffL;
    }

    /**
     * Page group response (type 0x9): PASID, RID and response code in qword 0, PRG index and LPIG in
     * qword 1. The code field is 4 bits and is sent to the function unchanged.
     */
    public static QiDescriptor pageGroupResponse(int rid, boolean pasidPresent, int pasid, int code, int prgIndex,
                                                 boolean lpig) {
        return pageGroupResponse(rid, pasidPresent, pasid, code, prgIndex, lpig, null);
    }

    /**
     * The same echoing the request's private data: Private Data Present (qword 0 bit 5, the kernel's former
     * {@code QI_PGRP_PDP}) and the data in qwords 2 and 3, unchanged. Null {@code data} sends none.
     */
    public static QiDescriptor pageGroupResponse(int rid, boolean pasidPresent, int pasid, int code, int prgIndex,
                                                 boolean lpig, PageRequestMessage.PrivateData data) {
        long qw0 = TYPE_PAGE_GROUP_RESPONSE | (pasidPresent ? 1L << 4 : 0) | (data != null ? PGRP_PDP : 0)
                | (long) (code & 0xf) << 12 | (long) (rid & 0xffff) << 16 | (long) (pasid & 0xfffff) << 32;
        long qw1 = (lpig ? 1L << 2 : 0) | (long) (prgIndex & 0x1ff) << 3;
        return new QiDescriptor(qw0, qw1, data == null ? 0 : data.low(), data == null ? 0 : data.high());
    }

    // ---- decoders ----

    int domainId() {
        return (int) ((qw0 >>> 16) & 0xffff);
    }

    /** PASID field of PASID-based descriptors and page group responses (bits 51:32). */
    int pasid() {
        return (int) ((qw0 >>> 32) & 0xfffff);
    }

    /** Context-cache SID (bits 47:32) and function mask (49:48). */
    int contextSid() {
        return (int) ((qw0 >>> 32) & 0xffff);
    }

    int contextFunctionMask() {
        return (int) ((qw0 >>> 48) & 3);
    }

    /** Address of IOTLB / PASID-IOTLB page-selective invalidation. */
    long pageAddr() {
        return qw1 & ~0xfffL;
    }

    /** AM: the invalidation covers 2^AM pages. */
    int addressMask() {
        return (int) (qw1 & 0x3f);
    }

    /** Device-TLB SID: bits 47:32 for type 0x3, 31:16 for type 0x8. */
    int deviceTlbSid() {
        return (int) ((type() == TYPE_DEVICE_TLB ? qw0 >>> 32 : qw0 >>> 16) & 0xffff);
    }

    /** PASID-based device-TLB: global (all PASIDs), qword 1 bit 0. */
    boolean deviceTlbGlobal() {
        return type() == TYPE_PASID_DEVICE_TLB && (qw1 & 1) != 0;
    }

    /** Device-TLB range start: S clear, one page; S set, the least significant 0 bit from 12 up gives the size. */
    long deviceTlbBase() {
        long size = deviceTlbSize();
        return size == Long.MAX_VALUE ? 0 : (qw1 & ~0xfffL) & -size;
    }

    long deviceTlbSize() {
        boolean s = type() == TYPE_DEVICE_TLB ? (qw1 & 1) != 0 : (qw1 & (1L << 11)) != 0;
        if (!s) {
            return 4096;
        }
        long ones = Long.numberOfTrailingZeros(~(qw1 >>> 12));
        return ones >= 51 ? Long.MAX_VALUE : 1L << (12 + ones + 1);
    }

    int waitStatusData() {
        return (int) (qw0 >>> 32);
    }

    long waitStatusAddr() {
        return qw1 & ~0x3L;
    }

    boolean has(long flag) {
        return (qw0 & flag) != 0;
    }

    /** The private data a page group response echoes, or null when Private Data Present is clear. */
    PageRequestMessage.PrivateData pgrpPrivateData() {
        return (qw0 & PGRP_PDP) != 0 ? new PageRequestMessage.PrivateData(qw2, qw3) : null;
    }

    int pgrpRid() {
        return (int) ((qw0 >>> 16) & 0xffff);
    }

    boolean pgrpPasidPresent() {
        return (qw0 & (1L << 4)) != 0;
    }

    int pgrpPasid() {
        return pasid();
    }

    int pgrpCode() {
        return (int) ((qw0 >>> 12) & 0xf);
    }

    int pgrpIndex() {
        return (int) ((qw1 >>> 3) & 0x1ff);
    }
}
