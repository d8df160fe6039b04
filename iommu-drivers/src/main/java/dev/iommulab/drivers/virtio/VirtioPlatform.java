package dev.iommulab.drivers.virtio;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.fault.LegacyFaultReporting;
import dev.iommulab.core.mm.CpuPageTable;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.Platform;
import dev.iommulab.drivers.PlatformOptions;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.core.IommuOps;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.viommu.ResvRegion;
import dev.iommulab.hw.viommu.ViommuEventObserver;
import dev.iommulab.hw.viommu.ViommuOptions;
import dev.iommulab.hw.viommu.ViommuWire;
import dev.iommulab.hw.viommu.VirtioIommu;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * virtio-iommu: a guest's machine — the {@link VirtioIommu} a VMM emulates, with QEMU's defaults on an x86 machine
 * (every PCI function of the guest behind it, the interrupt window {@code [0xfee00000, 0xfeefffff]} reported as an
 * MSI region), the guest kernel's {@link ViommuDriver}, and x86 process page tables. Options:
 * {@code implementation} ({@code spec} | {@code qemu}: whose answers the device gives where they differ),
 * {@code no-buffer} ({@code drop} | {@code wait}) and {@code wait-depth} (what the device does with a fault when the
 * event queue is empty), {@code bypass} ({@code config.bypass} at boot, QEMU's {@code boot-bypass}, default true),
 * {@code eventq-buffers} (event buffers the guest posts, 0 to 256; Linux posts 256) and {@code report-iommu-fault}
 * (the driver hands delivered faults to {@code report_iommu_fault()}; mainline does not).
 */
public final class VirtioPlatform implements Platform {

    /** The virtio device's name in the guest, the prefix of its log lines. */
    public static final String DEVICE_NAME = "virtio0";
    /** The x86 interrupt window QEMU reports as the endpoints' MSI region. */
    public static final ResvRegion X86_MSI = new ResvRegion(0xfee0_0000L, 0xfeef_ffffL, ViommuWire.RESV_MEM_T_MSI);

    private static final List<String> KEYS = List.of("implementation", "no-buffer", "wait-depth", "bypass",
            "eventq-buffers", "report-iommu-fault");

    @Override
    public List<String> optionKeys() {
        return KEYS;
    }

    /** The device model's options from {@code hardware.options}. */
    public static ViommuOptions deviceOptions(Map<String, Object> options) {
        PlatformOptions o = new PlatformOptions("virtio-iommu", options, KEYS);
        ViommuOptions v = ViommuOptions.DEFAULTS;
        if (o.has("implementation")) {
            v = v.withImplementation(ViommuOptions.Implementation.valueOf(
                    o.choice("implementation", List.of("spec", "qemu")).toUpperCase(Locale.ROOT)));
        }
        ViommuOptions.NoBuffer noBuffer = o.has("no-buffer") ? ViommuOptions.NoBuffer.valueOf(
                o.choice("no-buffer", List.of("drop", "wait")).toUpperCase(Locale.ROOT)) : v.noBuffer();
        int depth = o.has("wait-depth") ? o.integer("wait-depth", 0, 1 << 16) : v.waitDepth();
        v = v.withNoBuffer(noBuffer, depth);
        if (o.has("bypass")) {
            v = v.withBootBypass(o.bool("bypass"));
        }
        return v;
    }

    /** The guest driver's options from {@code hardware.options}. */
    public static ViommuDriver.Options driverOptions(Map<String, Object> options) {
        PlatformOptions o = new PlatformOptions("virtio-iommu", options, KEYS);
        int size = ViommuDriver.DEFAULT_QUEUE_SIZE;
        int buffers = o.has("eventq-buffers") ? o.integer("eventq-buffers", 0, size) : size;
        return new ViommuDriver.Options(size, buffers, o.has("report-iommu-fault") && o.bool("report-iommu-fault"));
    }

    @Override
    public Module module(Map<String, Object> options) {
        ViommuOptions device = deviceOptions(options);
        ViommuDriver.Options driver = driverOptions(options);
        return new AbstractModule() {
            @Override
            protected void configure() {
                bind(IommuHardware.class).to(VirtioIommu.class);
                bind(IommuOps.class).to(ViommuDriver.class);
            }

            @Provides
            @Singleton
            VirtioIommu virtioIommu(PhysicalMemory memory, EventLoop loop, TimingModel timing, PcieFabric fabric,
                                    HwFaultObserver faults, ViommuEventObserver events) {
                VirtioIommu d = new VirtioIommu("virtio-iommu", device, memory, loop, timing, faults, events);
                d.endpointsOn(fabric, List.of(X86_MSI));
                return d;
            }

            @Provides
            @Singleton
            ViommuDriver viommuDriver(VirtioIommu hw, DriverServices services, LegacyFaultReporting legacy) {
                return new ViommuDriver(hw, DEVICE_NAME, driver, services, legacy);
            }

            @Provides
            @Singleton
            CpuPageTable cpuPageTable(PhysicalMemory memory) {
                return CpuPageTable.x86(memory);
            }
        };
    }
}
