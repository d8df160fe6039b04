package dev.iommulab.drivers;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.IoPgfault;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What every driver keeps about one IOMMU besides its hardware state ({@code struct intel_iommu},
 * {@code struct riscv_iommu_device}): its name, the kernel services it was built with ({@link DriverServices}) and
 * the devices probed behind it, each with the driver's per-device state ({@code dev_iommu_priv_get()}).
 *
 * @param <I> the driver's per-device state
 */
public abstract class DriverUnit<I extends DriverDeviceInfo<?>> {

    private final DriverServices services;
    private final Map<Integer, I> devices = new HashMap<>();

    protected DriverUnit(DriverServices services) {
        this.services = services;
    }

    /** What the kernel gives the driver. */
    public final DriverServices services() {
        return services;
    }

    public final PhysicalMemory memory() {
        return services.memory();
    }

    public final FrameAllocator frames() {
        return services.frames();
    }

    public final IoPgfault iopf() {
        return services.iopf();
    }

    public final EventLoop loop() {
        return services.loop();
    }

    public final TimingModel timing() {
        return services.timing();
    }

    public final KernelLog log() {
        return services.log();
    }

    /** The IOMMU's name in messages. */
    public abstract String name();

    /** The probed devices by requester ID; the page-request thread looks requests up here. */
    public final Map<Integer, I> devices() {
        return devices;
    }

    /** The PCIe functions of the probed devices (what an overflow recovery may reset). */
    public final List<PcieEndpoint> endpoints() {
        return devices.values().stream().map(DriverDeviceInfo::pci).toList();
    }

    /** dev_iommu_priv_get(): the driver's state of {@code dev}; ENODEV for a device not behind this IOMMU. */
    public final I info(Device dev) {
        I info = devices.get(dev.rid());
        if (info == null) {
            throw new KernelException(Errno.ENODEV, "dev", dev + " is not behind " + name());
        }
        return info;
    }

    /**
     * {@code probe_device}: sets {@code dev} up behind this IOMMU ({@link #probe}) and keeps its state.
     *
     * @throws KernelException EBUSY for a device probed already; what {@link #probe} reports
     */
    public final void probeDevice(Device dev, PcieEndpoint pci) {
        if (devices.containsKey(dev.rid())) {
            throw new KernelException(Errno.EBUSY, "dev", dev + " already probed");
        }
        I info = probe(dev, pci);
        devices.put(dev.rid(), info);
    }

    /** The driver's device set-up for a device not probed yet; a failure leaves nothing behind. */
    protected abstract I probe(Device dev, PcieEndpoint pci);
}
