package dev.iommulab.core.fault;

import java.util.Objects;

/** {@code struct iommu_page_response}: which group, and the code. */
public record PageResponse(int pasid, int grpid, PageResponseCode code) {

    public PageResponse {
        Objects.requireNonNull(code, "code");
    }
}
