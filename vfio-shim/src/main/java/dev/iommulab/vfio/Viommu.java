package dev.iommulab.vfio;

/**
 * A vIOMMU object ({@code struct iommufd_viommu}): a nest-parent HWPT it holds and the event queues user space
 * allocated on it, one per type ({@link IommufdVeventq.Veventqs}). Reference: drivers/iommu/iommufd/viommu.c.
 */
final class Viommu extends IommufdObject {

    final Hwpt hwpt;
    final int type;
    final IommufdVeventq.Veventqs veventqs = new IommufdVeventq.Veventqs();

    Viommu(Hwpt hwpt, int type) {
        super("VIOMMU");
        this.hwpt = hwpt;
        this.type = type;
    }

    /** iommufd_viommu_destroy(): the nest parent is let go. */
    @Override
    void destroy() {
        hwpt.put();
    }
}
