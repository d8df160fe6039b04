package dev.iommulab.drivers.intel;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.mm.CpuPageTable;
import dev.iommulab.drivers.DriverServices;
import dev.iommulab.drivers.Platform;
import dev.iommulab.drivers.PlatformOptions;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdUnit;
import java.util.List;
import java.util.Map;

/** Intel VT-d on x86-64: the {@code vtd} hardware model with the Intel driver. */
public final class VtdPlatform implements Platform {

    private static final List<String> KEYS = List.of("mode", "fault-records", "prq-entries",
            "auto-respond-on-prq-full", "iotlb-entries");

    @Override
    public List<String> optionKeys() {
        return KEYS;
    }

    /** The unit's configuration from {@code hardware.options}. */
    public static VtdConfig config(Map<String, Object> options) {
        PlatformOptions o = new PlatformOptions("vtd", options, KEYS);
        VtdConfig config = VtdConfig.defaults("dmar0");
        if (o.has("mode")) {
            config = config.withMode(o.choice("mode", List.of("scalable", "legacy")).equals("legacy")
                    ? VtdConfig.Mode.LEGACY : VtdConfig.Mode.SCALABLE);
        }
        if (o.has("fault-records")) {
            config = config.withFaultRecords(o.integer("fault-records", 1, 256));
        }
        if (o.has("prq-entries")) {
            config = config.withPrqEntries(o.integer("prq-entries", 1, VtdConfig.MAX_PRQ_ENTRIES));
        }
        if (o.has("auto-respond-on-prq-full")) {
            config = config.withAutoRespondOnPrqFull(o.bool("auto-respond-on-prq-full"));
        }
        if (o.has("iotlb-entries")) {
            config = config.withIotlbEntries(o.integer("iotlb-entries", 0, 1 << 20));
        }
        return config;
    }

    @Override
    public Module module(Map<String, Object> options) {
        VtdConfig config = config(options);
        return new AbstractModule() {
            @Override
            protected void configure() {
                bind(VtdConfig.class).toInstance(config);
                bind(IommuHardware.class).to(VtdUnit.class);
                bind(IommuOps.class).to(IntelIommu.class);
            }

            @Provides
            @Singleton
            VtdUnit vtdUnit(PhysicalMemory memory, EventLoop loop, TimingModel timing, PcieFabric fabric,
                            HwFaultObserver observer) {
                return new VtdUnit(config, memory, loop, timing, fabric, observer);
            }

            @Provides
            @Singleton
            IntelIommu intelIommu(VtdUnit unit, DriverServices services) {
                return new IntelIommu(config.name(), unit, services);
            }

            @Provides
            @Singleton
            CpuPageTable cpuPageTable(PhysicalMemory memory) {
                return CpuPageTable.x86(memory);
            }
        };
    }
}
