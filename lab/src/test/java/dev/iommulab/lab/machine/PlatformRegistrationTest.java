package dev.iommulab.lab.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.inject.AbstractModule;
import com.google.inject.Module;
import com.google.inject.multibindings.MapBinder;
import dev.iommulab.drivers.Platform;
import dev.iommulab.drivers.intel.VtdPlatform;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Platforms are registered by name through a Guice MapBinder; a scenario's hardware.model picks one. */
class PlatformRegistrationTest {

    @TempDir
    Path dir;

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

    private Scenario scenario(String model) throws Exception {
        String text = ScenarioFiles.svaScenario("{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: 0x7f0000000000, size: 4KiB, access: write }")
                .replace("model: vtd", "model: " + model);
        return new ScenarioLoader().load(ScenarioFiles.write(dir, "s.yaml", text));
    }

    @Test
    void platforms_builtIn_listsVtdAndRiscv() {
        assertThat(Machine.platforms(List.of())).containsOnlyKeys("vtd", "riscv");
    }

    @Test
    void boot_riscv_buildsTheRiscvModel() throws Exception {
        Machine m = Machine.boot(scenario("riscv"));

        assertThat(m.get(IommuHardware.class)).isInstanceOf(RiscvIommu.class);
        assertThat(m.device("acc0")).isNotNull();
    }

    @Test
    void boot_modelRegisteredByAnotherModule_buildsTheMachineWithIt() throws Exception {
        List<String> built = new java.util.ArrayList<>();

        Machine m = Machine.boot(scenario("amd"), List.of(thirdParty(built)));

        assertThat(built).containsExactly("amd");
        assertThat(m.get(IommuHardware.class)).isInstanceOf(VtdUnit.class);
        assertThat(m.device("acc0")).isNotNull();
    }

    @Test
    void boot_modelNobodyRegistered_failsNamingTheAvailableOnes() throws Exception {
        Scenario s = scenario("smmuv3");

        assertThatThrownBy(() -> Machine.boot(s)).isInstanceOf(MachineConfigException.class)
                .hasMessageContaining("model 'smmuv3' is not available yet; available: riscv, vtd");
    }
}
