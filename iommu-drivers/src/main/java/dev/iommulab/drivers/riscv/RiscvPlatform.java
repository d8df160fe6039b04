package dev.iommulab.drivers.riscv;

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
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.List;
import java.util.Map;

/**
 * RISC-V: the {@code riscv} hardware model ({@link RiscvIommu}, default capabilities) with
 * {@link RiscvIommuDriver}, beside Sv48 process page tables. Options: {@code fq-entries} and
 * {@code pq-entries} (queue sizes the driver programs, rounded up to a power of two), {@code iotlb-entries}
 * (the model's IOTLB capacity), {@code fault-quota} (the lab's invented per-device fault quota with coalescing,
 * 0 = off, {@link RiscvConfig#faultQuota()}).
 */
public final class RiscvPlatform implements Platform {

    /** The unit's name in traces and in the driver's messages. */
    public static final String UNIT_NAME = "riscv-iommu0";
    /** Largest {@code fq-entries} / {@code pq-entries} accepted. */
    public static final int MAX_QUEUE_ENTRIES = 1 << 20;

    private static final List<String> KEYS = List.of("fq-entries", "pq-entries", "iotlb-entries", "fault-quota");

    @Override
    public List<String> optionKeys() {
        return KEYS;
    }

    /** The model's configuration from {@code hardware.options}. */
    public static RiscvConfig config(Map<String, Object> options) {
        PlatformOptions o = new PlatformOptions("riscv", options, KEYS);
        RiscvConfig config = RiscvConfig.defaults(UNIT_NAME);
        if (o.has("iotlb-entries")) {
            config = config.withIotlbEntries(o.integer("iotlb-entries", 0, 1 << 20));
        }
        if (o.has("fault-quota")) {
            config = config.withFaultQuota(o.integer("fault-quota", 0, MAX_QUEUE_ENTRIES));
        }
        return config;
    }

    /** The queue sizes the driver asks for, from {@code hardware.options}. */
    public static RiscvIommuDriver.QueueSizes queueSizes(Map<String, Object> options) {
        PlatformOptions o = new PlatformOptions("riscv", options, KEYS);
        int fq = o.has("fq-entries") ? o.integer("fq-entries", 2, MAX_QUEUE_ENTRIES)
                : RiscvIommuDriver.DEFAULT_FQ_ENTRIES;
        int pq = o.has("pq-entries") ? o.integer("pq-entries", 2, MAX_QUEUE_ENTRIES)
                : RiscvIommuDriver.DEFAULT_PQ_ENTRIES;
        return new RiscvIommuDriver.QueueSizes(fq, pq);
    }

    @Override
    public Module module(Map<String, Object> options) {
        RiscvConfig config = config(options);
        RiscvIommuDriver.QueueSizes sizes = queueSizes(options);
        return new AbstractModule() {
            @Override
            protected void configure() {
                bind(RiscvConfig.class).toInstance(config);
                bind(IommuHardware.class).to(RiscvIommu.class);
                bind(IommuOps.class).to(RiscvIommuDriver.class);
            }

            @Provides
            @Singleton
            RiscvIommu riscvIommu(PhysicalMemory memory, EventLoop loop, TimingModel timing, PcieFabric fabric,
                                  HwFaultObserver observer) {
                return new RiscvIommu(config, memory, loop, timing, fabric, observer);
            }

            @Provides
            @Singleton
            RiscvIommuDriver riscvIommuDriver(RiscvIommu hw, DriverServices services) {
                return new RiscvIommuDriver(hw, sizes, services);
            }

            @Provides
            @Singleton
            CpuPageTable cpuPageTable(PhysicalMemory memory) {
                return CpuPageTable.riscvSv48(memory);
            }
        };
    }
}
