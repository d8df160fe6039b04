package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.FaultLogRecord;

/**
 * One primary fault record as it sits in a 128-bit fault recording register (VT-d spec §11.4.14; the
 * kernel's {@code dma_frcd_*} accessors in drivers/iommu/intel/dmar.c). Low qword: FI (the faulting
 * page address, bits 63:12). High qword: SID 15:0, T2 28, PRIV 29, EXE 30, PP 31, FR 39:32, PV 59:40,
 * AT 61:60, T1 62, F 63.
 *
 * @param pasid       PASID value, meaningful only when {@code pasidPresent}
 * @param addressType the request's AT: 0 untranslated, 1 translation request, 2 translated
 */
public record FaultRecord(int sid, boolean pasidPresent, int pasid, long addr, Type type, int addressType,
                          boolean exe, boolean priv, int reason) implements FaultLogRecord {

    /** The request type T2:T1 (00b write, 01b read, 10b page request, 11b AtomicOp). */
    public enum Type {
        WRITE(0, 0), READ(0, 1), PAGE_REQUEST(1, 0), ATOMIC(1, 1);

        private final int t2;
        private final int t1;

        Type(int t2, int t1) {
            this.t2 = t2;
            this.t1 = t1;
        }
    }

    public static final long F = 1L << 63;

    public FaultRecord {
        if (addressType < 0 || addressType > 2) {
            throw new IllegalArgumentException("AT is 0, 1 or 2: " + addressType);
        }
    }

    /** The low qword: FI. */
    public long lo() {
        return addr & ~0xfffL;
    }

    /** The high qword with F set. */
    public long hi() {
        return (sid & 0xffffL) | (long) type.t2 << 28 | (priv ? 1L << 29 : 0) | (exe ? 1L << 30 : 0)
                | (pasidPresent ? 1L << 31 : 0) | (long) (reason & 0xff) << 32
                | (pasidPresent ? (long) (pasid & 0xfffff) << 40 : 0) | (long) addressType << 60
                | (long) type.t1 << 62 | F;
    }

    /** Decodes a register's two qwords (F is not checked). */
    public static FaultRecord decode(long lo, long hi) {
        int t2 = (int) ((hi >>> 28) & 1);
        int t1 = (int) ((hi >>> 62) & 1);
        Type type = t2 == 0 ? (t1 == 0 ? Type.WRITE : Type.READ) : (t1 == 0 ? Type.PAGE_REQUEST : Type.ATOMIC);
        boolean pp = (hi & (1L << 31)) != 0;
        return new FaultRecord((int) (hi & 0xffff), pp, (int) ((hi >>> 40) & 0xfffff), lo & ~0xfffL, type,
                (int) ((hi >>> 60) & 3), (hi & (1L << 30)) != 0, (hi & (1L << 29)) != 0, (int) ((hi >>> 32) & 0xff));
    }

    /** SID. */
    @Override
    public int requesterId() {
        return sid;
    }

    @Override
    public boolean privileged() {
        return priv;
    }

    /** FR. */
    @Override
    public int reasonCode() {
        return reason;
    }
}
