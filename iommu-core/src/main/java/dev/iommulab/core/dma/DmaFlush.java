package dev.iommulab.core.dma;

import dev.iommulab.core.DomainType;
import java.util.Objects;

/**
 * How dma-iommu invalidates the IOTLB after an unmap, the policy {@code dma.flush}: {@link Mode#STRICT} (the
 * kernel's {@code iommu.strict=1}: IOMMU_DOMAIN_DMA, every unmap syncs the IOTLB before its IOVA is freed) or
 * {@link Mode#LAZY} (IOMMU_DOMAIN_DMA_FQ: the IOVA waits in the domain's flush queue, freed only after a later
 * flush of the whole IOTLB), with the queue's size and timeout ({@code struct iommu_dma_options}).
 *
 * <p>The default is {@code lazy}, 256 slots, 10 ms: Kconfig's default for x86 is
 * CONFIG_IOMMU_DEFAULT_DMA_LAZY and iommu_dma_init_options() gives a per-CPU queue IOVA_DEFAULT_FQ_SIZE slots
 * and IOVA_DEFAULT_FQ_TIMEOUT ms. Other architectures default to strict; on the lab's RISC-V platform lazy
 * makes no difference anyway, since mainline's RISC-V driver does not claim IOMMU_CAP_DEFERRED_FLUSH and a
 * DMA_FQ domain falls back to DMA (iommu_dma_init_domain()).
 *
 * @param mode      strict or lazy
 * @param batch     flush-queue slots ({@code fq_size}), a power of two >= 2; the ring holds one entry fewer,
 *                  so the {@code batch}-th queued unmap forces a flush
 * @param timeoutNs simulated time from the first queued unmap to the timer's flush ({@code fq_timeout}), > 0
 */
public record DmaFlush(Mode mode, int batch, long timeoutNs) {

    /** IOVA_DEFAULT_FQ_SIZE. */
    public static final int IOVA_DEFAULT_FQ_SIZE = 256;
    /**
     * IOVA_SINGLE_FQ_SIZE, the largest flush queue the kernel sets up (iommu_dma_init_fq_single()): the most slots
     * {@code dma.flush.batch} may ask for, as the queue's ring is allocated whole.
     */
    public static final int IOVA_SINGLE_FQ_SIZE = 32768;
    /** IOVA_DEFAULT_FQ_TIMEOUT, 10 ms, in ns. */
    public static final long IOVA_DEFAULT_FQ_TIMEOUT_NS = 10_000_000L;
    /** The kernel's default on x86. */
    public static final DmaFlush DEFAULT = new DmaFlush(Mode.LAZY, IOVA_DEFAULT_FQ_SIZE, IOVA_DEFAULT_FQ_TIMEOUT_NS);

    /** The two invalidation modes. */
    public enum Mode {
        STRICT, LAZY
    }

    /** Validates the fields. */
    public DmaFlush {
        Objects.requireNonNull(mode, "mode");
        if (batch < 2 || Integer.bitCount(batch) != 1) {
            throw new IllegalArgumentException("batch must be a power of two >= 2: " + batch);
        }
        if (timeoutNs <= 0) {
            throw new IllegalArgumentException("timeout must be positive: " + timeoutNs);
        }
    }

    /**
     * iommu_def_domain_type for DMA domains under this mode: DMA_FQ when lazy, DMA when strict
     * (iommu_set_default_lazy() / iommu.strict=1).
     */
    public DomainType domainType() {
        return mode == Mode.LAZY ? DomainType.DMA_FQ : DomainType.DMA;
    }
}
