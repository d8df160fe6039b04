package dev.iommulab.hw.pci;

/**
 * {@link DeviceProfile#NIC}: a failed buffer read drops the frame and the NIC goes on with its next
 * descriptor; a discarded receive write loses the frame without the NIC knowing (reference §4, NIC).
 */
final class NicBehaviour implements ProfileBehaviour {

    @Override
    public String failedWorkItem(DmaStatus status, long addr) {
        return String.format("drops the frame (%s at %#x) and goes on with the next descriptor", status.label(), addr);
    }

    @Override
    public String lostWrite() {
        return "the received frame is lost; the NIC cannot tell and goes on";
    }
}
