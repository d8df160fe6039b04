package dev.iommulab.hw.pci;

/**
 * {@link DeviceProfile#NVME}: transfers go out as MPS-sized requests (default 512 B: one 4 KiB page is 8
 * requests, so one bad page faults up to 8 times, RV-I256); a failed read fails the command with the
 * generic status Data Transfer Error (SCT 0h, SC 04h). A discarded write (data of a host Read command)
 * is invisible to the controller, which completes the command as successful (reference §4, NVMe).
 */
final class NvmeBehaviour implements ProfileBehaviour {

    /** MPS most NVMe platforms run at. */
    static final int DEFAULT_MPS = 512;

    @Override
    public int defaultMps() {
        return DEFAULT_MPS;
    }

    @Override
    public String failedWorkItem(DmaStatus status, long addr) {
        return String.format("fails the command: Data Transfer Error (SCT 0h SC 04h), %s at %#x", status.label(),
                addr);
    }

    @Override
    public String lostWrite() {
        return "the controller cannot tell and will complete the command as successful";
    }
}
