package dev.iommulab.hw.pci;

/** {@link DeviceProfile#GENERIC}: a plain DMA master; an error ends the work item. */
final class GenericBehaviour implements ProfileBehaviour {

    @Override
    public String failedWorkItem(DmaStatus status, long addr) {
        return String.format("ends the work item with %s at %#x", status.label(), addr);
    }
}
