package dev.iommulab.drivers.virtio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.pgtable.IommuProt;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.DriverUnit;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.viommu.ViommuRequest;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.hw.virtio.VirtioStatus;
import dev.iommulab.hw.virtio.VirtqueueLayout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * {@code struct viommu_dev}: the guest's virtio-iommu, set up as viommu_probe() does — features negotiated (the
 * virtio core's part included), the configuration read, both queues in guest memory, DRIVER_OK, the event queue
 * filled — and the endpoints behind it probed (viommu_probe_device(), viommu_probe_endpoint()).
 */
final class ViommuDev extends DriverUnit<ViommuEndpoint> {

    /** The device features the driver knows ({@code features[]} of virtio-iommu.c) and the transport's. */
    static final long DRIVER_FEATURES = 1L << ViommuWire.F_MAP_UNMAP | 1L << ViommuWire.F_INPUT_RANGE
            | 1L << ViommuWire.F_DOMAIN_RANGE | 1L << ViommuWire.F_PROBE | 1L << ViommuWire.F_MMIO
            | 1L << ViommuWire.F_BYPASS_CONFIG | 1L << ViommuWire.F_VERSION_1 | 1L << ViommuWire.F_EVENT_IDX;
    /** {@code MSI_IOVA_BASE}, {@code MSI_IOVA_LENGTH}: the software MSI window when the device reports none. */
    static final long MSI_IOVA_BASE = 0x800_0000L;
    static final long MSI_IOVA_LENGTH = 0x10_0000L;
    private static final int PAGE_SIZE = 4096;

    private final VirtioIommu device;
    private final String name;
    private final long features;
    private final long pgsizeBitmap;
    private final long inputStart;
    private final long inputEnd;
    private final long lastDomain;
    private long firstDomain;
    private final int probeSize;
    private final int mapFlags;
    private final int identityDomainId;
    private final RequestQueue requests;
    private final EventQueue events;
    private final Set<Long> domainIds = new TreeSet<>();

    /**
     * Counterpart of viommu_probe().
     *
     * @param name         the virtio device's name ({@code virtio0}), the prefix of its log lines
     * @param queueSize    entries of each virtqueue (the transport's maximum, QEMU's 256)
     * @param eventBuffers event buffers posted (Linux posts one per free entry, {@code queueSize})
     * @param sink         where delivered faults go besides the log (the {@code report-iommu-fault} option), or null
     * @throws KernelException ENODEV without VERSION_1 or MAP_UNMAP (or when the device refuses the features),
     *                         EINVAL for a page_size_mask of 0
     */
    ViommuDev(VirtioIommu device, String name, int queueSize, int eventBuffers, DriverServices services,
              EventQueue.FaultSink sink) {
        super(services);
        this.device = device;
        this.name = name;
        device.writeStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        this.features = device.deviceFeatures() & DRIVER_FEATURES;
        if (!has(ViommuWire.F_VERSION_1) || !has(ViommuWire.F_MAP_UNMAP)) {
            device.writeStatus(device.status() | VirtioStatus.FAILED);
            throw new KernelException(Errno.ENODEV, "vdev", name + " lacks VERSION_1 or MAP_UNMAP");
        }
        device.writeDriverFeatures(features);
        device.writeStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        if ((device.status() & VirtioStatus.FEATURES_OK) == 0) {
            throw new KernelException(Errno.ENODEV, "vdev", name + " did not accept the features");
        }
        this.pgsizeBitmap = device.readConfig(ViommuWire.CONFIG_PAGE_SIZE_MASK, 8);
        if (pgsizeBitmap == 0) {
            throw new KernelException(Errno.EINVAL, "page_size_mask", name + ": page_size_mask is 0");
        }
        this.inputStart = has(ViommuWire.F_INPUT_RANGE) ? device.readConfig(ViommuWire.CONFIG_INPUT_START, 8) : 0;
        this.inputEnd = has(ViommuWire.F_INPUT_RANGE) ? device.readConfig(ViommuWire.CONFIG_INPUT_END, 8) : -1L;
        boolean ranged = has(ViommuWire.F_DOMAIN_RANGE);
        this.firstDomain = ranged ? device.readConfig(ViommuWire.CONFIG_DOMAIN_START, 4) : 0;
        this.lastDomain = ranged ? device.readConfig(ViommuWire.CONFIG_DOMAIN_END, 4) : 0xffff_ffffL;
        this.probeSize = has(ViommuWire.F_PROBE) ? (int) device.readConfig(ViommuWire.CONFIG_PROBE_SIZE, 4) : 0;
        this.mapFlags = ViommuWire.MAP_F_READ | ViommuWire.MAP_F_WRITE
                | (has(ViommuWire.F_MMIO) ? ViommuWire.MAP_F_MMIO : 0);
        this.identityDomainId = has(ViommuWire.F_BYPASS_CONFIG) ? (int) firstDomain++ : -1;
        boolean eventIdx = has(ViommuWire.F_EVENT_IDX);
        this.requests = new RequestQueue(device, queue(ViommuWire.REQUEST_QUEUE, queueSize), eventIdx, frames(),
                loop(), probeSize);
        this.events = new EventQueue(device, queue(ViommuWire.EVENT_QUEUE, queueSize), eventIdx, memory(), loop(),
                log(), prefix(), sink);
        device.setQueueInterrupt(ViommuWire.EVENT_QUEUE, events::interrupt);
        device.setConfigInterrupt(this::configChanged);
        device.writeStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK
                | VirtioStatus.DRIVER_OK);
        events.fill(frames(), Math.min(eventBuffers, queueSize));
        log().info("%sinput address: %d bits", prefix(), orderBase2(inputEnd));
        log().info("%spage mask: %s", prefix(), EventQueue.hex(pgsizeBitmap));
    }

    /** viommu_config_changed(), called by the virtio core on a configuration interrupt: it only warns. */
    private void configChanged() {
        log().warn("%sconfig changed", prefix());
    }

    private VirtqueueLayout queue(int index, int size) {
        long bytes = VirtqueueLayout.contiguous(size, 0).end();
        VirtqueueLayout layout = VirtqueueLayout.contiguous(size,
                frames().allocateContiguous((int) ((bytes + PAGE_SIZE - 1) / PAGE_SIZE)));
        device.setQueue(index, layout);
        return layout;
    }

    /** order_base_2(): the bits an address up to {@code n} needs; 64 for the whole 64-bit range. */
    private static int orderBase2(long n) {
        return Long.compareUnsigned(n, 1) <= 0 ? 0 : 64 - Long.numberOfLeadingZeros(n - 1);
    }

    boolean has(int feature) {
        return ViommuWire.has(features, feature);
    }

    @Override
    public String name() {
        return name;
    }

    /** {@code "virtio_iommu virtio0: "}: what dev_err(viommu->dev, ...) prints first. */
    String prefix() {
        return "virtio_iommu " + name + ": ";
    }

    EventQueue events() {
        return events;
    }

    RequestQueue requests() {
        return requests;
    }

    VirtioIommu device() {
        return device;
    }

    long pgsizeBitmap() {
        return pgsizeBitmap;
    }

    long inputEnd() {
        return inputEnd;
    }

    int mapFlags() {
        return mapFlags;
    }

    /** The ID of the bypass domain, or -1 without BYPASS_CONFIG. */
    int identityDomainId() {
        return identityDomainId;
    }

    /** ida_alloc_range(first_domain, last_domain): the lowest free ID. */
    int allocDomainId() {
        for (long id = firstDomain; id <= lastDomain; id++) {
            if (domainIds.add(id)) {
                return (int) id;
            }
        }
        throw new KernelException(Errno.ENOSPC, "domain", name + ": no domain ID left");
    }

    void freeDomainId(int id) {
        domainIds.remove(Integer.toUnsignedLong(id));
    }

    /**
     * Counterpart of viommu_probe_endpoint(), with what viommu_probe_device() adds: a PROBE for the endpoint when the
     * device has properties, its RESV_MEM properties kept as reserved regions. A failed PROBE fails the probe (the
     * device gets no IOMMU).
     */
    @Override
    protected ViommuEndpoint probe(Device dev, PcieEndpoint pci) {
        List<IommuResvRegion> regions = new ArrayList<>();
        if (probeSize != 0) {
            byte[] out = new byte[probeSize + ViommuWire.TAIL_BYTES];
            int ret = requests.sendSync(new ViommuRequest.Probe(dev.rid()).encode(), out.length, out);
            if (ret != 0) {
                throw new KernelException(Errno.fromReturn(ret), "dev", "PROBE of " + dev + " failed: " + ret);
            }
            parseProperties(dev, ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN), regions);
            regions.sort(Comparator.comparingLong(IommuResvRegion::start));
        }
        return new ViommuEndpoint(dev, pci, regions);
    }

    private void parseProperties(Device dev, ByteBuffer props, List<IommuResvRegion> regions) {
        int cur = 0;
        String devPrefix = "pci " + dev.pciName() + ": ";
        int type = props.getShort(0) & 0xfff;
        while (type != ViommuWire.PROBE_T_NONE && cur < probeSize) {
            int len = (props.getShort(cur + 2) & 0xffff) + ViommuWire.PROPERTY_HEAD_BYTES;
            if (type == ViommuWire.PROBE_T_RESV_MEM) {
                if (!addResvMem(dev, props, cur, len, regions)) {
                    log().err("%sfailed to parse viommu prop %s", devPrefix, EventQueue.hex(type));
                }
            } else {
                log().err("%sunknown viommu prop %s", devPrefix, EventQueue.hex(type));
            }
            cur += len;
            if (cur >= probeSize || cur + 4 > props.capacity()) {
                break;
            }
            type = props.getShort(cur) & 0xfff;
        }
    }

    /**
     * Counterpart of viommu_add_resv_mem(): false for a property too short or a range that overflows — and, unlike
     * Linux, for a region at or above 2^63, which the core's {@code IommuResvRegion} cannot hold.
     */
    private boolean addResvMem(Device dev, ByteBuffer props, int at, int len, List<IommuResvRegion> regions) {
        if (len < 24 || at + 24 > probeSize) {
            return false;
        }
        int subtype = props.get(at + 4) & 0xff;
        long start = props.getLong(at + 8);
        long end = props.getLong(at + 16);
        long size = end - start + 1;
        if (Long.compareUnsigned(size, end - start) < 0 || start < 0 || start + size < start) {
            return false;
        }
        if (subtype == ViommuWire.RESV_MEM_T_MSI) {
            regions.add(new IommuResvRegion(start, size,
                    IommuProt.IOMMU_WRITE | IommuProt.IOMMU_NOEXEC | IommuProt.IOMMU_MMIO, IommuResvRegion.Type.MSI));
        } else {
            if (subtype != ViommuWire.RESV_MEM_T_RESERVED) {
                log().warn("pci %s: unknown resv mem subtype %s", dev.pciName(), EventQueue.hex(subtype));
            }
            regions.add(new IommuResvRegion(start, size, 0, IommuResvRegion.Type.RESERVED));
        }
        return true;
    }

    /**
     * Counterpart of viommu_get_resv_regions(): the endpoint's regions, and the software MSI window when none is MSI.
     */
    List<IommuResvRegion> resvRegions(Device dev) {
        List<IommuResvRegion> out = new ArrayList<>(info(dev).resvRegions);
        if (out.stream().noneMatch(r -> r.type() == IommuResvRegion.Type.MSI)) {
            out.add(new IommuResvRegion(MSI_IOVA_BASE, MSI_IOVA_LENGTH,
                    IommuProt.IOMMU_WRITE | IommuProt.IOMMU_NOEXEC | IommuProt.IOMMU_MMIO,
                    IommuResvRegion.Type.SW_MSI));
        }
        return out;
    }
}
