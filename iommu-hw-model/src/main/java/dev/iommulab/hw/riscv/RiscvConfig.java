package dev.iommulab.hw.riscv;

import java.util.Objects;

/**
 * Build-time options of a RISC-V IOMMU model (riscv-iommu "IOMMU capabilities"; reference/iommu-hardware.md
 * §2.4). The queue sizes are not here: software chooses them when it programs {@code cqb}, {@code fqb} and
 * {@code pqb} (the lab's {@code fq-entries}/{@code pq-entries} options are the driver's), and the model
 * honours whatever {@code LOG2SZ} it finds.
 *
 * @param name                      the unit's name in traces, e.g. {@code "riscv-iommu0"}
 * @param capabilities              the read-only {@code capabilities} register. {@code MSI_FLAT} must be 0:
 *                                  MSI page tables are not modelled, so the base (32-byte) device-context
 *                                  format is used. {@code IGS} must be MSI or BOTH
 * @param iotlbEntries              IOTLB capacity (option {@code iotlb-entries}); 0 disables caching
 * @param ddtCacheEntries           device-context cache capacity; 0 disables caching
 * @param pdtCacheEntries           process-context cache capacity; 0 disables caching
 * @param atsInvalidationTimeoutNs  how long an {@code ATS.INVAL} waits for the Invalidate Completion before it
 *                                  counts as timed out (PCIe ATS: one minute [UNVERIFIED, PCIe base spec not
 *                                  available])
 * @param autoRespondPageRequests   answer a "Page Request" with L = 1 that cannot be queued with the PRG
 *                                  response the spec names for the reason (it says "may"); off: drop it
 * @param faultQuota                the lab's invented <b>per-device fault quota with coalescing</b> (option
 *                                  {@code fault-quota}; no real IOMMU has it, see {@link FaultQuota} and
 *                                  docs/hardware-models.md): at most this many unconsumed fault-queue records
 *                                  per device; 0 (the default) is the specification's queue
 */
public record RiscvConfig(String name, long capabilities, int iotlbEntries, int ddtCacheEntries,
                          int pdtCacheEntries, long atsInvalidationTimeoutNs, boolean autoRespondPageRequests,
                          int faultQuota) {

    /** Sv39/48/57, Sv39x4/48x4/57x4, PD8/17/20, ATS, T2GPA, A/D update, MSI and wired interrupts, 56-bit PA. */
    public static final long DEFAULT_CAPABILITIES = RiscvRegs.CAP_VERSION_1_0 | RiscvRegs.CAP_SV39
            | RiscvRegs.CAP_SV48 | RiscvRegs.CAP_SV57 | RiscvRegs.CAP_SV39X4 | RiscvRegs.CAP_SV48X4
            | RiscvRegs.CAP_SV57X4 | RiscvRegs.CAP_AMO_HWAD | RiscvRegs.CAP_ATS | RiscvRegs.CAP_T2GPA
            | RiscvRegs.CAP_IGS_BOTH | 56L << RiscvRegs.CAP_PAS_SHIFT | RiscvRegs.CAP_PD8 | RiscvRegs.CAP_PD17
            | RiscvRegs.CAP_PD20;

    public static final int DEFAULT_IOTLB_ENTRIES = 64;
    public static final long DEFAULT_ATS_INVALIDATION_TIMEOUT_NS = 60_000_000_000L;

    public RiscvConfig {
        Objects.requireNonNull(name, "name");
        if ((capabilities & RiscvRegs.CAP_MSI_FLAT) != 0) {
            throw new IllegalArgumentException("capabilities.MSI_FLAT: MSI page tables are not modelled");
        }
        if ((capabilities & RiscvRegs.CAP_IGS_MASK) > RiscvRegs.CAP_IGS_BOTH) {
            throw new IllegalArgumentException("capabilities.IGS 3 is reserved");
        }
        if (iotlbEntries < 0 || ddtCacheEntries < 0 || pdtCacheEntries < 0) {
            throw new IllegalArgumentException("cache sizes must not be negative");
        }
        if (atsInvalidationTimeoutNs <= 0) {
            throw new IllegalArgumentException("atsInvalidationTimeoutNs must be positive: " + atsInvalidationTimeoutNs);
        }
        if (faultQuota < 0) {
            throw new IllegalArgumentException("faultQuota must not be negative: " + faultQuota);
        }
    }

    /** A configuration without the invented fault quota (the specification's fault queue). */
    public RiscvConfig(String name, long capabilities, int iotlbEntries, int ddtCacheEntries, int pdtCacheEntries,
                       long atsInvalidationTimeoutNs, boolean autoRespondPageRequests) {
        this(name, capabilities, iotlbEntries, ddtCacheEntries, pdtCacheEntries, atsInvalidationTimeoutNs,
                autoRespondPageRequests, 0);
    }

    /** Default capabilities and caches, a one-minute ATS invalidation timeout, auto-responses on. */
    public static RiscvConfig defaults(String name) {
        return new RiscvConfig(name, DEFAULT_CAPABILITIES, DEFAULT_IOTLB_ENTRIES, 16, 16,
                DEFAULT_ATS_INVALIDATION_TIMEOUT_NS, true);
    }

    /** This configuration with an IOTLB of {@code entries} (option {@code iotlb-entries}). */
    public RiscvConfig withIotlbEntries(int entries) {
        return new RiscvConfig(name, capabilities, entries, ddtCacheEntries, pdtCacheEntries,
                atsInvalidationTimeoutNs, autoRespondPageRequests, faultQuota);
    }

    /** This configuration with a different {@code capabilities} register. */
    public RiscvConfig withCapabilities(long value) {
        return new RiscvConfig(name, value, iotlbEntries, ddtCacheEntries, pdtCacheEntries,
                atsInvalidationTimeoutNs, autoRespondPageRequests, faultQuota);
    }

    /** This configuration with another ATS invalidation timeout. */
    public RiscvConfig withAtsInvalidationTimeoutNs(long timeoutNs) {
        return new RiscvConfig(name, capabilities, iotlbEntries, ddtCacheEntries, pdtCacheEntries, timeoutNs,
                autoRespondPageRequests, faultQuota);
    }

    /**
     * This configuration with the lab's invented per-device fault quota of {@code records} unconsumed records
     * per device, repeated faults coalesced (option {@code fault-quota}; 0 turns it off).
     */
    public RiscvConfig withFaultQuota(int records) {
        return new RiscvConfig(name, capabilities, iotlbEntries, ddtCacheEntries, pdtCacheEntries,
                atsInvalidationTimeoutNs, autoRespondPageRequests, records);
    }

    boolean has(long capability) {
        return (capabilities & capability) != 0;
    }
}
