package dev.iommulab.vfio;

/**
 * The fault object in the context's table ({@code IOMMUFD_OBJ_FAULT}); its file is the {@link IommufdFault}. Held by
 * each HWPT allocated with it and by the open file.
 */
final class FaultObject extends IommufdObject {

    final IommufdFault file;

    FaultObject(IommufdFault file) {
        super("FAULT");
        this.file = file;
    }

    /** iommufd_fault_destroy(): every group still held is answered INVALID. */
    @Override
    void destroy() {
        file.destroy();
    }
}
