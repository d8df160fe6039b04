package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PageRequestRecord;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * A 16-byte page-request-queue record (riscv-iommu "Page-Request-Queue (PQ)", figure "Page-request-queue
 * record"; reference/iommu-hardware.md §2.4.3): doubleword 0 holds {@code PID} 31:12, {@code PV} 32,
 * {@code PRIV} 33, {@code EXEC} 34, {@code DID} 63:40; doubleword 1 is the PCIe payload: {@code R} 0,
 * {@code W} 1, {@code L} 2, {@code PRGI} 11:3, page address 63:12.
 */
public record RiscvPageRequestRecord(int did, int pid, boolean pv, boolean priv, boolean exec, long payload)
        implements PageRequestRecord {

    /** The record the IOMMU writes for {@code m}; PRIV and EXEC only with a PASID. */
    public static RiscvPageRequestRecord of(PageRequestMessage m) {
        long payload = (m.read() ? 1 : 0) | (m.write() ? 2 : 0) | (m.last() ? 4 : 0) | (long) m.prgi() << 3
                | m.pageAddr();
        return new RiscvPageRequestRecord(m.rid(), m.pasidPresent() ? m.pasid() : 0, m.pasidPresent(),
                m.pasidPresent() && m.priv(), m.pasidPresent() && m.exe(), payload);
    }

    public long doubleword0() {
        return (pid & 0xfffffL) << 12 | (pv ? 1L << 32 : 0) | (priv ? 1L << 33 : 0) | (exec ? 1L << 34 : 0)
                | (did & 0xffffffL) << 40;
    }

    public static RiscvPageRequestRecord readFrom(PhysicalMemory memory, long pa) {
        long dw0 = memory.readLong(pa);
        return new RiscvPageRequestRecord((int) (dw0 >>> 40), (int) (dw0 >>> 12 & 0xfffff), (dw0 >>> 32 & 1) != 0,
                (dw0 >>> 33 & 1) != 0, (dw0 >>> 34 & 1) != 0, memory.readLong(pa + 8));
    }

    @Override
    public void writeTo(PhysicalMemory memory, long pa) {
        memory.writeLong(pa, doubleword0());
        memory.writeLong(pa + 8, payload);
    }

    public boolean read() {
        return (payload & 1) != 0;
    }

    public boolean write() {
        return (payload & 2) != 0;
    }

    public boolean last() {
        return (payload & 4) != 0;
    }

    public int prgi() {
        return (int) (payload >>> 3 & PageRequestMessage.PRGI_MASK);
    }

    public long pageAddr() {
        return payload & ~0xfffL;
    }

    /** The message as software sees it (the requester ID is the low 16 bits of DID). */
    @Override
    public PageRequestMessage toMessage() {
        return new PageRequestMessage(did & 0xffff, pv, pv ? pid : 0, exec, priv, read(), write(), last(), prgi(),
                pageAddr());
    }
}
