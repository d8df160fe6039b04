package dev.iommulab.hw.viommu;

/**
 * The numbers of the virtio-iommu interface both sides share (virtio 1.x §5.13, Linux
 * {@code include/uapi/linux/virtio_iommu.h}): device ID, queues, feature bits, request types and flags, the
 * configuration layout, probe properties and the fault record's reasons and flags.
 */
public final class ViommuWire {

    /** Virtio device ID of an IOMMU. */
    public static final int DEVICE_ID = 23;
    /** Virtqueue 0: requests from the driver. */
    public static final int REQUEST_QUEUE = 0;
    /** Virtqueue 1: fault events from the device. */
    public static final int EVENT_QUEUE = 1;

    // feature bits (device-specific, then the generic ones this model offers)
    public static final int F_INPUT_RANGE = 0;
    public static final int F_DOMAIN_RANGE = 1;
    public static final int F_MAP_UNMAP = 2;
    /** Legacy: unattached endpoints bypass the IOMMU when negotiated; superseded by {@link #F_BYPASS_CONFIG}. */
    public static final int F_BYPASS = 3;
    public static final int F_PROBE = 4;
    public static final int F_MMIO = 5;
    public static final int F_BYPASS_CONFIG = 6;
    public static final int F_INDIRECT_DESC = 28;
    public static final int F_EVENT_IDX = 29;
    public static final int F_VERSION_1 = 32;

    // request types (struct virtio_iommu_req_head.type)
    public static final int T_ATTACH = 1;
    public static final int T_DETACH = 2;
    public static final int T_MAP = 3;
    public static final int T_UNMAP = 4;
    public static final int T_PROBE = 5;

    /** Bytes of {@code struct virtio_iommu_req_head} and of {@code struct virtio_iommu_req_tail}. */
    public static final int HEAD_BYTES = 4;
    public static final int TAIL_BYTES = 4;

    public static final int ATTACH_F_BYPASS = 1;
    public static final int MAP_F_READ = 1;
    public static final int MAP_F_WRITE = 1 << 1;
    public static final int MAP_F_MMIO = 1 << 2;
    public static final int MAP_F_MASK = MAP_F_READ | MAP_F_WRITE | MAP_F_MMIO;

    // struct virtio_iommu_config: offsets
    public static final int CONFIG_PAGE_SIZE_MASK = 0;
    public static final int CONFIG_INPUT_START = 8;
    public static final int CONFIG_INPUT_END = 16;
    public static final int CONFIG_DOMAIN_START = 24;
    public static final int CONFIG_DOMAIN_END = 28;
    public static final int CONFIG_PROBE_SIZE = 32;
    public static final int CONFIG_BYPASS = 36;
    public static final int CONFIG_BYTES = 40;

    // PROBE properties
    public static final int PROBE_T_NONE = 0;
    public static final int PROBE_T_RESV_MEM = 1;
    /** Bytes of {@code struct virtio_iommu_probe_property} (type, length). */
    public static final int PROPERTY_HEAD_BYTES = 4;
    public static final int RESV_MEM_T_RESERVED = 0;
    public static final int RESV_MEM_T_MSI = 1;

    // struct virtio_iommu_fault
    public static final int FAULT_BYTES = 24;
    public static final int FAULT_F_READ = 1;
    public static final int FAULT_F_WRITE = 1 << 1;
    /** In Linux's header only, not in the spec; this device never sets it. */
    public static final int FAULT_F_EXEC = 1 << 2;
    public static final int FAULT_F_ADDRESS = 1 << 8;

    private ViommuWire() {
    }

    /** Whether feature {@code bit} is set in {@code features}. */
    public static boolean has(long features, int bit) {
        return (features >>> bit & 1) != 0;
    }
}
