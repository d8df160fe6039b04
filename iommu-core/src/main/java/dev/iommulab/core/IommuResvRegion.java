package dev.iommulab.core;

import java.util.Objects;

/**
 * {@code struct iommu_resv_region}: an IOVA range a driver reports for a device ({@code get_resv_regions}) that
 * must not be handed out as ordinary DMA space, e.g. the x86 interrupt (MSI) window.
 *
 * @param start  first IOVA
 * @param length bytes, > 0
 * @param prot   IOMMU_READ/IOMMU_WRITE bits of a direct mapping (0 for the others)
 * @param type   the IOMMU_RESV_* kind
 */
public record IommuResvRegion(long start, long length, int prot, Type type) {

    /** {@code enum iommu_resv_type}. */
    public enum Type {
        /** IOMMU_RESV_DIRECT: must be identity mapped (e.g. a VT-d RMRR). */
        DIRECT,
        /** IOMMU_RESV_DIRECT_RELAXABLE: identity mapped, but may be given up for device assignment. */
        DIRECT_RELAXABLE,
        /** IOMMU_RESV_RESERVED: never mapped. */
        RESERVED,
        /** IOMMU_RESV_MSI: hardware MSI window, translated by the IOMMU's interrupt remapping, not its tables. */
        MSI,
        /** IOMMU_RESV_SW_MSI: a window where software maps MSI doorbells itself (dma-iommu skips it). */
        SW_MSI
    }

    /** Validates the fields. */
    public IommuResvRegion {
        if (start < 0 || length <= 0 || start + length < start) {
            throw new IllegalArgumentException(String.format("bad region %#x+%#x", start, length));
        }
        Objects.requireNonNull(type, "type");
    }

    /** The last IOVA of the region. */
    public long last() {
        return start + length - 1;
    }
}
