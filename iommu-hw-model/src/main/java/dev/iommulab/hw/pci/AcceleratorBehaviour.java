package dev.iommulab.hw.pci;

/**
 * {@link DeviceProfile#ACCELERATOR}: an SVA accelerator with ATS and PRI. Invalid Request fails the work
 * item with a page-fault error naming the faulting address; after a Response Failure (RF) every miss is a
 * hard error until PRI is re-enabled or the function reset (reference §4, accelerator; §1.4). With
 * {@link EndpointOptions#multiPageGroups} it requests the rest of the work item's range in one group.
 */
final class AcceleratorBehaviour implements ProfileBehaviour {

    @Override
    public boolean requestsRange(EndpointOptions options) {
        return options.multiPageGroups();
    }

    @Override
    public String failedWorkItem(DmaStatus status, long addr) {
        return String.format("fails the work item: page-fault error (%s) at %#x reported to its driver",
                status.label(), addr);
    }
}
