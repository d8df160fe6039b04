package dev.iommulab.vfio;

/**
 * The fault object in the context's table ({@code IOMMUFD_OBJ_FAULT}); its file is the {@link IommufdFault}. Held by
 * each HWPT allocated with it and by the open file.
 */
final class FaultObject extends IommufdObject {

    final IommufdFault file;

    /** A fault object for {@code file}, which holds a reference on it until it is released. */
    FaultObject(IommufdFault file) {
        super("FAULT");
        this.file = file;
        get(); // the file's reference
        file.onRelease(this::put);
    }

    /** iommufd_fault_destroy(): every group still held is answered INVALID. */
    @Override
    void destroy() {
        file.destroy();
    }
}
