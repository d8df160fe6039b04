package dev.iommulab.vfio;

/** A vEVENTQ in the context's table ({@code IOMMUFD_OBJ_VEVENTQ}); it holds its vIOMMU. */
final class VeventqObject extends IommufdObject {

    final Viommu viommu;
    final IommufdVeventq queue;

    VeventqObject(Viommu viommu, IommufdVeventq queue) {
        super("VEVENTQ");
        this.viommu = viommu;
        this.queue = queue;
    }

    /** iommufd_veventq_destroy(): its events are discarded, the type is free again, the vIOMMU let go. */
    @Override
    void destroy() {
        viommu.veventqs.destroy(queue);
        viommu.put();
    }
}
