package dev.iommulab.lab.machine;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.util.Modules;
import dev.iommulab.core.CoreModule;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.drivers.DriversModule;
import dev.iommulab.hw.HwModelModule;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.IopfModule;
import dev.iommulab.lab.scenario.DeviceSpec;
import dev.iommulab.lab.scenario.ProcessSpec;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.VmaSpec;
import dev.iommulab.sva.IommuSva;
import dev.iommulab.sva.SvaModule;
import dev.iommulab.vfio.VfioModule;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One simulated machine assembled from the layers' Guice modules: hardware, core, io-pgfault, driver,
 * SVA and the user-space view, with the scenario's devices probed and processes created.
 */
public final class Machine {

    /** PRI retries of a device after Success before a work item gives up. */
    static final int MAX_PRI_RETRIES = 16;

    private final Injector injector;
    private final EventLoop loop;
    private final FaultRecorder faults;
    private final Map<String, PcieEndpoint> endpoints = new LinkedHashMap<>();
    private final Map<String, Device> devices = new LinkedHashMap<>();
    private final Map<String, MmStruct> processes = new LinkedHashMap<>();

    private Machine(Injector injector) {
        this.injector = injector;
        this.loop = injector.getInstance(EventLoop.class);
        this.faults = injector.getInstance(FaultRecorder.class);
    }

    /** The layers' modules, in order from hardware to user space. */
    public static List<Module> layerModules() {
        return List.of(new HwModelModule(), new CoreModule(), new IopfModule(), new DriversModule(), new SvaModule(),
                new VfioModule());
    }

    /**
     * Builds the machine the scenario describes. {@code overrides} replace bindings of the layer modules
     * (e.g. a mock of one layer).
     *
     * @throws MachineConfigException for a hardware model or option this lab does not have
     */
    public static Machine boot(Scenario scenario, Module... overrides) throws MachineConfigException {
        VtdConfig vtd = vtdConfig(scenario);
        Module base = Modules.combine(Modules.combine(layerModules()),
                new LabModule(scenario.seed(), vtd, new FaultRecorder()));
        Machine machine = new Machine(Guice.createInjector(Modules.override(base).with(overrides)));
        machine.populate(scenario);
        return machine;
    }

    /** Fails when the scenario's hardware model or one of its options is not available. */
    public static void checkHardware(Scenario scenario) throws MachineConfigException {
        vtdConfig(scenario);
    }

    /** The {@code hardware.options} keys of the vtd model. */
    private static final String VTD_OPTIONS = "mode, fault-records, prq-entries, auto-respond-on-prq-full, "
            + "iotlb-entries";

    private static VtdConfig vtdConfig(Scenario scenario) throws MachineConfigException {
        String model = scenario.hardware().model();
        if (!model.equals("vtd")) {
            throw new MachineConfigException("hardware.model", "model '" + model
                    + "' is not available yet; available: vtd");
        }
        VtdConfig config = VtdConfig.defaults("dmar0");
        for (Map.Entry<String, Object> option : scenario.hardware().options().entrySet()) {
            config = switch (option.getKey()) {
                case "mode" -> config.withMode(parseMode(option));
                case "fault-records" -> config.withFaultRecords(parseInt(option, 1, 256));
                case "prq-entries" -> config.withPrqEntries(parseInt(option, 1, VtdConfig.MAX_PRQ_ENTRIES));
                case "auto-respond-on-prq-full" -> config.withAutoRespondOnPrqFull(parseBoolean(option));
                case "iotlb-entries" -> config.withIotlbEntries(parseInt(option, 0, 1 << 20));
                default -> throw new MachineConfigException("hardware.options." + option.getKey(),
                        "unknown vtd option; known: " + VTD_OPTIONS);
            };
        }
        return config;
    }

    private static VtdConfig.Mode parseMode(Map.Entry<String, Object> option) throws MachineConfigException {
        return switch (String.valueOf(option.getValue()).toLowerCase(Locale.ROOT)) {
            case "scalable" -> VtdConfig.Mode.SCALABLE;
            case "legacy" -> VtdConfig.Mode.LEGACY;
            default -> throw new MachineConfigException("hardware.options." + option.getKey(),
                    "must be scalable or legacy: " + option.getValue());
        };
    }

    private static int parseInt(Map.Entry<String, Object> option, int min, int max) throws MachineConfigException {
        Object v = option.getValue();
        long n;
        try {
            n = v instanceof Number number ? number.longValue() : Long.decode(String.valueOf(v).trim());
        } catch (NumberFormatException e) {
            n = Long.MIN_VALUE;
        }
        if (n < min || n > max) {
            throw new MachineConfigException("hardware.options." + option.getKey(),
                    "must be an integer from " + min + " to " + max + ": " + v);
        }
        return (int) n;
    }

    private static boolean parseBoolean(Map.Entry<String, Object> option) throws MachineConfigException {
        String v = String.valueOf(option.getValue()).toLowerCase(Locale.ROOT);
        if (!v.equals("true") && !v.equals("false")) {
            throw new MachineConfigException("hardware.options." + option.getKey(), "must be true or false: " + v);
        }
        return Boolean.parseBoolean(v);
    }

    private void populate(Scenario scenario) {
        IommuOps ops = get(IommuOps.class);
        IommuHardware iommu = get(VtdUnit.class);
        PcieFabric fabric = get(PcieFabric.class);
        IommuCore core = get(IommuCore.class);
        for (DeviceSpec spec : scenario.devices()) {
            EndpointConfig config = new EndpointConfig(spec.name(), spec.rid(),
                    DeviceProfile.valueOf(spec.profile().toUpperCase(Locale.ROOT)), spec.ats(), spec.pri(),
                    spec.pasidBits(), spec.priCredits(), spec.atcEntries(), MAX_PRI_RETRIES);
            PcieEndpoint ep = new PcieEndpoint(config, loop, get(TimingModel.class));
            ep.connect(iommu);
            fabric.attach(ep);
            endpoints.put(spec.name(), ep);
            devices.put(spec.name(), core.probeDevice(ep, ops));
        }
        FrameAllocator frames = get(FrameAllocator.class);
        long zeroPage = frames.allocate();
        for (ProcessSpec spec : scenario.processes()) {
            MmStruct mm = new MmStruct(spec.name(), frames, zeroPage);
            for (VmaSpec vma : spec.vmas()) {
                mm.mmap(vma.start(), vma.size(), Vma.flagsOf(vma.prot()));
            }
            processes.put(spec.name(), mm);
        }
    }

    /** Any component of the machine, e.g. {@code machine.get(Iopf.class)}. */
    public <T> T get(Class<T> type) {
        return injector.getInstance(type);
    }

    public EventLoop loop() {
        return loop;
    }

    public PcieEndpoint endpoint(String name) {
        return endpoints.get(name);
    }

    public Map<String, PcieEndpoint> endpoints() {
        return endpoints;
    }

    public Device device(String name) {
        return devices.get(name);
    }

    public MmStruct process(String name) {
        return processes.get(name);
    }

    public FaultRecorder faultRecorder() {
        return faults;
    }

    public KernelLog log() {
        return get(KernelLog.class);
    }

    public IommuSva sva() {
        return get(IommuSva.class);
    }

    public Iopf iopf() {
        return get(Iopf.class);
    }

    public FaultEvents faultEvents() {
        return get(FaultEvents.class);
    }

    public FailureInjector failures() {
        return get(FailureInjector.class);
    }
}
