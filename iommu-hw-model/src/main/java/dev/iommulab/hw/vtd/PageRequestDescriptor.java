package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PageRequestRecord;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The 32-byte page request descriptor the unit writes into the page request queue (VT-d spec §7.5.1;
 * the kernel's {@code struct page_req_dsc}): qword 0 holds type, PASID-present, RID, PASID,
 * execute-requested and privileged-mode-requested, and Private Data Present (bit 9, the kernel's former
 * {@code priv_data_present}); qword 1 holds read, write, LPIG, PRG index and the page address; qwords 2 and 3
 * carry the private data.
 */
public record PageRequestDescriptor(boolean pasidPresent, int rid, int pasid, boolean exeReq, boolean pmReq,
                                    boolean rdReq, boolean wrReq, boolean lpig, int prgIndex, long addr,
                                    boolean privDataPresent, long privData0, long privData1)
        implements PageRequestRecord {

    private static final long PDP = 1L << 9;

    /** Descriptor type of a page request. */
    public static final int TYPE = 0x1;

    public static PageRequestDescriptor of(PageRequestMessage m) {
        PageRequestMessage.PrivateData data = m.privateData();
        return new PageRequestDescriptor(m.pasidPresent(), m.rid(), m.pasid(), m.exe(), m.priv(), m.read(), m.write(),
                m.last(), m.prgi(), m.pageAddr(), data != null, data == null ? 0 : data.low(),
                data == null ? 0 : data.high());
    }

    public long qw0() {
        return TYPE | (pasidPresent ? 1L << 8 : 0) | (long) rid << 16 | (long) pasid << 32
                | (exeReq ? 1L << 52 : 0) | (pmReq ? 1L << 53 : 0) | (privDataPresent ? PDP : 0);
    }

    public long qw1() {
        return (rdReq ? 1L : 0) | (wrReq ? 1L << 1 : 0) | (lpig ? 1L << 2 : 0) | (long) prgIndex << 3
                | (addr & ~0xfffL);
    }

    @Override
    public PageRequestMessage toMessage() {
        return new PageRequestMessage(rid, pasidPresent, pasid, exeReq, pmReq, rdReq, wrReq, lpig, prgIndex, addr,
                privDataPresent ? new PageRequestMessage.PrivateData(privData0, privData1) : null);
    }

    @Override
    public void writeTo(PhysicalMemory memory, long pa) {
        memory.writeLong(pa, qw0());
        memory.writeLong(pa + 8, qw1());
        memory.writeLong(pa + 16, privData0);
        memory.writeLong(pa + 24, privData1);
    }

    public static PageRequestDescriptor readFrom(PhysicalMemory memory, long pa) {
        long qw0 = memory.readLong(pa);
        long qw1 = memory.readLong(pa + 8);
        return new PageRequestDescriptor((qw0 & (1L << 8)) != 0, (int) ((qw0 >>> 16) & 0xffff),
                (int) ((qw0 >>> 32) & 0xfffff), (qw0 & (1L << 52)) != 0, (qw0 & (1L << 53)) != 0,
                (qw1 & 1) != 0, (qw1 & 2) != 0, (qw1 & 4) != 0, (int) ((qw1 >>> 3) & 0x1ff), qw1 & ~0xfffL,
                (qw0 & PDP) != 0, memory.readLong(pa + 16), memory.readLong(pa + 24));
    }
}
