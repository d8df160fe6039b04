package dev.iommulab.hw.vtd;

import java.util.Objects;

/**
 * Build-time options of a VT-d unit. {@link #defaults(String)} gives the usual unit; the {@code with*}
 * methods change one option.
 *
 * @param mode                 which translation-table modes the unit implements: {@link Mode#SCALABLE}
 *                             (ECAP.SMTS = 1: legacy and scalable) or {@link Mode#LEGACY} (ECAP.SMTS = 0,
 *                             and so no PASID, PRI or first stage; RTADDR.TTM = 01b is then reserved and
 *                             every request faults 0x30)
 * @param autoRespondOnPrqFull answer Success by itself for an LPIG page request that cannot be queued
 *                             because the queue is full or PRO is set (VT-d spec Table 31); off gives the
 *                             QEMU-compatible behaviour of sending nothing
 * @param faultRecords         number of fault recording registers (CAP.NFR + 1), 1..256
 * @param prqEntries           page request queue slots the driver should provide. Not a hardware
 *                             property (the queue size is whatever software programs in PQA.PQS); the
 *                             lab passes it to the driver through here. PQS counts 4 KiB pages in powers
 *                             of two, so the driver rounds up to 128 · 2^PQS slots (see
 *                             {@link #prqOrder()})
 * @param iotlbEntries         IOTLB capacity (least recently used replacement); 0 disables it
 * @param pasidCacheEntries    PASID-cache capacity; 0 disables it
 * @param contextCacheEntries  context-cache capacity; 0 disables it
 * @param deviceTlbTimeoutNs   time after which an unanswered ATS Invalidate Request sets FSTS.ITE (an
 *                             estimate; PCIe allows a function up to a minute)
 * @param pageWalkCoherent     ECAP.SMPWCS: page walks snoop, so A/D updates never need PWSNP; when false
 *                             an A/D update through a PASID entry with PWSNP = 0 faults 0x7C / 0x90
 */
public record VtdConfig(String name, Mode mode, boolean autoRespondOnPrqFull, int faultRecords, int prqEntries,
                        int iotlbEntries, int pasidCacheEntries, int contextCacheEntries, long deviceTlbTimeoutNs,
                        boolean pageWalkCoherent) {

    /** Translation-table modes the unit implements. */
    public enum Mode { SCALABLE, LEGACY }

    public static final int DEFAULT_FAULT_RECORDS = 8;
    /** The kernel's PRQ_DEPTH: 2^4 pages of 32-byte descriptors. */
    public static final int DEFAULT_PRQ_ENTRIES = 2048;
    public static final int DEFAULT_IOTLB_ENTRIES = 64;
    public static final int DEFAULT_PASID_CACHE_ENTRIES = 32;
    public static final int DEFAULT_CONTEXT_CACHE_ENTRIES = 32;
    public static final long DEFAULT_DEVICE_TLB_TIMEOUT_NS = 1_000_000;
    /** The largest page request queue PQA can describe: PQS = 7, 2^7 pages. */
    public static final int MAX_PRQ_ENTRIES = (4096 << 7) / VtdRegs.DESC_SIZE;

    public VtdConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(mode, "mode");
        if (faultRecords < 1 || faultRecords > 256) {
            throw new IllegalArgumentException("faultRecords must be 1..256: " + faultRecords);
        }
        if (prqEntries < 1 || prqEntries > MAX_PRQ_ENTRIES) {
            throw new IllegalArgumentException("prqEntries must be 1.." + MAX_PRQ_ENTRIES + ": " + prqEntries);
        }
        if (iotlbEntries < 0 || pasidCacheEntries < 0 || contextCacheEntries < 0) {
            throw new IllegalArgumentException("cache sizes must not be negative");
        }
        if (deviceTlbTimeoutNs <= 0) {
            throw new IllegalArgumentException("deviceTlbTimeoutNs must be positive: " + deviceTlbTimeoutNs);
        }
    }

    /** A scalable-mode unit with the default options and {@code autoRespondOnPrqFull} as given. */
    public VtdConfig(String name, boolean autoRespondOnPrqFull) {
        this(name, Mode.SCALABLE, autoRespondOnPrqFull, DEFAULT_FAULT_RECORDS, DEFAULT_PRQ_ENTRIES,
                DEFAULT_IOTLB_ENTRIES, DEFAULT_PASID_CACHE_ENTRIES, DEFAULT_CONTEXT_CACHE_ENTRIES,
                DEFAULT_DEVICE_TLB_TIMEOUT_NS, true);
    }

    public static VtdConfig defaults(String name) {
        return new VtdConfig(name, true);
    }

    public VtdConfig withMode(Mode m) {
        return new VtdConfig(name, m, autoRespondOnPrqFull, faultRecords, prqEntries, iotlbEntries,
                pasidCacheEntries, contextCacheEntries, deviceTlbTimeoutNs, pageWalkCoherent);
    }

    public VtdConfig withAutoRespondOnPrqFull(boolean on) {
        return new VtdConfig(name, mode, on, faultRecords, prqEntries, iotlbEntries, pasidCacheEntries,
                contextCacheEntries, deviceTlbTimeoutNs, pageWalkCoherent);
    }

    public VtdConfig withFaultRecords(int n) {
        return new VtdConfig(name, mode, autoRespondOnPrqFull, n, prqEntries, iotlbEntries, pasidCacheEntries,
                contextCacheEntries, deviceTlbTimeoutNs, pageWalkCoherent);
    }

    public VtdConfig withPrqEntries(int n) {
        return new VtdConfig(name, mode, autoRespondOnPrqFull, faultRecords, n, iotlbEntries, pasidCacheEntries,
                contextCacheEntries, deviceTlbTimeoutNs, pageWalkCoherent);
    }

    public VtdConfig withIotlbEntries(int n) {
        return new VtdConfig(name, mode, autoRespondOnPrqFull, faultRecords, prqEntries, n, pasidCacheEntries,
                contextCacheEntries, deviceTlbTimeoutNs, pageWalkCoherent);
    }

    /** The same capacity for the IOTLB, the PASID cache and the context cache (0 turns caching off). */
    public VtdConfig withCacheEntries(int n) {
        return new VtdConfig(name, mode, autoRespondOnPrqFull, faultRecords, prqEntries, n, n, n,
                deviceTlbTimeoutNs, pageWalkCoherent);
    }

    public VtdConfig withDeviceTlbTimeoutNs(long ns) {
        return new VtdConfig(name, mode, autoRespondOnPrqFull, faultRecords, prqEntries, iotlbEntries,
                pasidCacheEntries, contextCacheEntries, ns, pageWalkCoherent);
    }

    public VtdConfig withPageWalkCoherent(boolean coherent) {
        return new VtdConfig(name, mode, autoRespondOnPrqFull, faultRecords, prqEntries, iotlbEntries,
                pasidCacheEntries, contextCacheEntries, deviceTlbTimeoutNs, coherent);
    }

    public boolean scalableModeSupported() {
        return mode == Mode.SCALABLE;
    }

    /**
     * PQA.PQS for a queue of at least {@link #prqEntries} slots: the smallest order with
     * 128 · 2^order ≥ prqEntries (one 4 KiB page holds 128 descriptors of 32 bytes).
     */
    public int prqOrder() {
        int order = 0;
        while ((4096 << order) / VtdRegs.DESC_SIZE < prqEntries) {
            order++;
        }
        return order;
    }
}
