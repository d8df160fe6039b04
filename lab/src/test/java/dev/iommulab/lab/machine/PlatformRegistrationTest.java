package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.multibindings.MapBinder;
import dev.iommulab.drivers.Platform;
import dev.iommulab.drivers.intel.VtdPlatform;
import dev.iommulab.lab.TestMachines;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.vtd.VtdUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Platforms are registered by name through a Guice MapBinder; a scenario's hardware.model picks one. */
class PlatformRegistrationTest {

    /** A stand-in third-party platform: VT-d hardware with a unit name of its own, under the name amd. */
    private static Module thirdParty(List<String> built) {
        return new AbstractModule() {
            @Override
            protected void configure() {
                MapBinder.newMapBinder(binder(), String.class, Platform.class).addBinding("amd").toInstance(
                        new Platform() {
                            @Override
                            public List<String> optionKeys() {
                                return List.of();
                            }

                            @Override
                            public Module module(Map<String, Object> options) {
                                built.add("amd");
                                return new VtdPlatform().module(Map.of());
                            }
                        });
            }
        };
    }

    /** An SVA accelerator and a process with 64 KiB of memory on hardware {@code model}. */
    private static MachineBuilder machine(String model) {
        return Machine.builder().hardware(model)
                .device("acc0", "00:03.0", TestMachines.SVA_ACCELERATOR)
                .process("app", p -> p.vma(0x7f0000000000L, 64 * 1024, "rw"));
    }

    @Test
    void platforms_builtIn_listsVtdRiscvAndVirtioIommu() {
        assertThat(Machine.platforms(List.of())).containsOnlyKeys("vtd", "riscv", "virtio-iommu");
    }

    @Test
    void boot_riscv_buildsTheRiscvModel() throws Exception {
        Machine m = machine("riscv").build();

        assertThat(m.hardware()).isInstanceOf(RiscvIommu.class);
        assertThat(m.device("acc0")).isNotNull();
    }

    @Test
    void boot_modelRegisteredByAnotherModule_buildsTheMachineWithIt() throws Exception {
        List<String> built = new java.util.ArrayList<>();

        Machine m = machine("amd").platformModule(thirdParty(built)).build();

        assertThat(built).containsExactly("amd");
        assertThat(m.hardware()).isInstanceOf(VtdUnit.class);
        assertThat(m.device("acc0")).isNotNull();
    }

    @Test
    void boot_modelNobodyRegistered_failsNamingTheAvailableOnes() throws Exception {
        MachineBuilder smmu = machine("smmuv3");

        assertThatThrownBy(smmu::build).isInstanceOf(MachineConfigException.class)
                .hasMessageContaining("model 'smmuv3' is not available yet; available: riscv, virtio-iommu, vtd");
    }
}
