package dev.iommulab.lab;

import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.MachineBuilder;
import java.util.function.Consumer;

/** Machines the lab's tests build most often, without a scenario file. */
public final class TestMachines {

    /** An accelerator ready for SVA: ATS, PRI and 20 PASID bits. */
    public static final Consumer<MachineBuilder.DeviceOptions> SVA_ACCELERATOR = d -> d.profile("accelerator").ats()
            .pri().pasidBits(20);

    /** Where {@link #quickstart()}'s process {@code app} has its 64 KiB of read-write memory. */
    public static final long APP_BASE = 0x7f0000000000L;

    private TestMachines() {
    }

    /**
     * The stack of scenarios/quickstart.yaml (its spec, not its steps): VT-d, SVA accelerator {@code acc0} at
     * 00:03.0, process {@code app} with 64 KiB of read-write memory at {@link #APP_BASE}, seed 7.
     */
    public static MachineBuilder quickstart() {
        return Machine.builder().seed(7).hardware("vtd").device("acc0", "00:03.0", SVA_ACCELERATOR)
                .process("app", p -> p.vma(APP_BASE, 64 * 1024, "rw"));
    }
}
