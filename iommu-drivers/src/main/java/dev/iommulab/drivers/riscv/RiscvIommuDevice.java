package dev.iommulab.drivers.riscv;

import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.sim.Trace;
import java.util.Locale;

/**
 * What every part of the driver shares about one IOMMU, {@code struct riscv_iommu_device}: the register
 * window, the {@code capabilities} read at probe, and {@code iommu->dev} for messages. Messages go out as
 * {@code dev_warn()}/{@code dev_err()}/{@code dev_info()} print them for the platform device: driver name
 * {@code riscv,iommu} (iommu-platform.c), then the device name (here the model's unit name), then the text.
 */
final class RiscvIommuDevice {

    /** {@code riscv_iommu_platform_driver.driver.name}. */
    static final String DRIVER_NAME = "riscv,iommu";

    final RiscvIommu hw;
    final long caps;
    final String name;
    final PhysicalMemory memory;
    final EventLoop loop;
    final TimingModel timing;
    final KernelLog log;

    RiscvIommuDevice(RiscvIommu hw, PhysicalMemory memory, EventLoop loop, TimingModel timing, KernelLog log) {
        this.hw = hw;
        this.caps = hw.readReg(RiscvRegs.CAPABILITIES);
        this.name = hw.config().name();
        this.memory = memory;
        this.loop = loop;
        this.timing = timing;
        this.log = log;
    }

    boolean hasCap(long bit) {
        return (caps & bit) != 0;
    }

    /** The {@code dev_printk} prefix, e.g. {@code riscv,iommu riscv-iommu0}. */
    String devPrefix() {
        return DRIVER_NAME + " " + name;
    }

    void devWarn(String format, Object... args) {
        log.warn("%s: %s", devPrefix(), String.format(Locale.ROOT, format, args));
    }

    void devErr(String format, Object... args) {
        log.err("%s: %s", devPrefix(), String.format(Locale.ROOT, format, args));
    }

    void devInfo(String format, Object... args) {
        log.info("%s: %s", devPrefix(), String.format(Locale.ROOT, format, args));
    }

    /**
     * The hard IRQ handler riscv_iommu_queue_ipsr() every queue shares: when the queue's bit is set in {@code ipsr},
     * wakes its thread {@code process}, named {@code <unit>-<thread>}, after the thread wake-up latency.
     * {@code wakeTrace}, when not null, is the journey's line for the wake-up.
     */
    void queueIpsr(HwQueue queue, String thread, String wakeTrace, Runnable process) {
        if ((hw.readReg(RiscvRegs.IPSR) & queue.ipsrBit()) == 0) {
            return;
        }
        if (wakeTrace != null) {
            trace("riscv_iommu_queue_ipsr", "%s", wakeTrace);
        }
        loop.schedule(timing.threadWakeNs(), name + "-" + thread, process);
    }

    /** One step of the journey, in the driver's layer, named after the kernel (or lab-extension) symbol. */
    void trace(String symbol, String format, Object... args) {
        if (loop.trace().enabled()) { // formatted only when a sink reads it, as every model's trace is
            loop.trace().step(loop.now(), Layer.DRIVER, symbol, "%s: " + format, Trace.prepend(name, args));
        }
    }
}
