package dev.iommulab.drivers;

import dev.iommulab.core.Device;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What every driver keeps about one IOMMU besides its hardware state ({@code struct intel_iommu},
 * {@code struct riscv_iommu_device}): its name and the devices probed behind it, each with the driver's per-device
 * state ({@code dev_iommu_priv_get()}).
 *
 * @param <I> the driver's per-device state
 */
public abstract class DriverUnit<I extends DriverDeviceInfo<?>> {

    private final Map<Integer, I> devices = new HashMap<>();

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
