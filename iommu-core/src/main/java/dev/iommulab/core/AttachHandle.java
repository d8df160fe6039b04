package dev.iommulab.core;

import java.util.Objects;

/** {@code struct iommu_attach_handle}: what is attached at one (group, PASID). */
public record AttachHandle(IommuDomain domain) {

    public AttachHandle {
        Objects.requireNonNull(domain, "domain");
    }
}
