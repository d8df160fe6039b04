package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The model records validate themselves in their compact constructors. */
class ModelTest {

    private static final SourceLocation LOC = new SourceLocation(Path.of("s.yaml"), 3, 5);

    private static DeviceSpec device(String name, String bdf) {
        return new DeviceSpec(name, bdf, "generic", true, true, 20, 32, 64);
    }

    private static Scenario scenario(List<DeviceSpec> devices, List<Step> steps) {
        return new Scenario("s", "", 1, HardwareSpec.of("vtd"), Map.of(), devices,
                List.of(new ProcessSpec("app", List.of())), steps, List.of(), Path.of("s.yaml"));
    }

    @Test
    void rid_bdf_isBusDeviceFunction() {
        assertThat(device("a", "00:03.0").rid()).isEqualTo(0x18);
        assertThat(device("a", "ff:1f.7").rid()).isEqualTo(0xffff);
        assertThat(device("a", "0A:1b.2").rid()).isEqualTo(0x0a << 8 | 0x1b << 3 | 2);
    }

    @Test
    void deviceSpec_invalidFields_throw() {
        assertThatThrownBy(() -> device("a", "00:20.0")).hasMessageContaining("device number must be 00..1f");
        assertThatThrownBy(() -> device("a", "0:3.0")).hasMessageContaining("expected bb:dd.f");
        assertThatThrownBy(() -> new DeviceSpec("a", "00:03.0", "generic", false, true, 0, 32, 64))
                .hasMessageContaining("pri requires ats");
        assertThatThrownBy(() -> new DeviceSpec("a", "00:03.0", "generic", true, true, 21, 32, 64))
                .hasMessageContaining("pasid-bits must be in 0..20");
        assertThatThrownBy(() -> new DeviceSpec("a", "00:03.0", "generic", true, true, 20, 0, 64))
                .hasMessageContaining("pri-credits");
        assertThatThrownBy(() -> new DeviceSpec("a", "00:03.0", "gpu", true, true, 20, 32, 64))
                .hasMessageContaining("unknown profile 'gpu'");
    }

    @Test
    void vmaSpec_unalignedOrOverlapping_throws() {
        assertThatThrownBy(() -> new VmaSpec(0x1001, 4096, "rw")).hasMessageContaining("not page aligned");
        assertThatThrownBy(() -> new VmaSpec(0x1000, 100, "rw")).hasMessageContaining("not page aligned");
        assertThatThrownBy(() -> new VmaSpec(0x1000, 4096, "rwq")).hasMessageContaining("invalid prot");
        assertThatThrownBy(() -> new ProcessSpec("p", List.of(new VmaSpec(0, 8192, "r"), new VmaSpec(4096, 4096, "r"))))
                .hasMessageContaining("overlaps");
        assertThat(new VmaSpec(0x1000, 4096, "xwr").end()).isEqualTo(0x2000);
        assertThat(new VmaSpec(0x1000, 4096, "none").prot()).isEqualTo("none");
    }

    @Test
    void steps_inconsistentArguments_throw() {
        assertThatThrownBy(() -> new PageRequest("a", 0, 0, "read", true, 1, "app", false, null, LOC))
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> new StopMarker("a", null, null, null, LOC)).hasMessageContaining("exactly one");
        assertThatThrownBy(() -> new Run(null, -1L, LOC)).hasMessageContaining("at must be >= 0");
        assertThatThrownBy(() -> new Attach("a", "paging", null, LOC)).hasMessageContaining("unknown domain");
        assertThatThrownBy(() -> new Dma("a", 0L, 0, "read", null, false, null, LOC)).hasMessageContaining("size");
        assertThatThrownBy(() -> new Flr("a", null, null)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void scenario_undefinedOrDuplicateNames_throws() {
        DeviceSpec acc0 = device("acc0", "00:03.0");
        assertThatThrownBy(() -> scenario(List.of(acc0), List.of(new Flr("acc1", null, LOC))))
                .hasMessageContaining("undefined device acc1");
        assertThatThrownBy(() -> scenario(List.of(acc0), List.of(new ExitProcess("other", null, LOC))))
                .hasMessageContaining("undefined process other");
        assertThatThrownBy(() -> scenario(List.of(acc0, device("acc0", "00:04.0")), List.of()))
                .hasMessageContaining("duplicate device name acc0");
        assertThatThrownBy(() -> scenario(List.of(acc0, device("acc1", "00:03.0")), List.of()))
                .hasMessageContaining("duplicate device rid");
    }

    @Test
    void scenario_collections_areUnmodifiableAndKeepOrder() {
        Map<String, String> policies = new LinkedHashMap<>();
        for (String key : List.of("z", "a", "m", "b")) {
            policies.put(key, key);
        }
        Scenario s = new Scenario("s", "", 1, HardwareSpec.of("vtd"), policies, List.of(), List.of(), List.of(),
                List.of(), Path.of("s.yaml"));
        policies.clear();

        assertThat(s.policies().keySet()).containsExactly("z", "a", "m", "b");
        assertThatThrownBy(() -> s.policies().put("x", "y")).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> s.steps().add(Run.idle(LOC))).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void hardwareSpec_unknownModel_throws() {
        assertThatThrownBy(() -> HardwareSpec.of("x86")).hasMessage("unknown hardware model 'x86'; allowed: vtd, "
                + "riscv, smmuv3, amd, virtio-iommu");
    }

    @Test
    void toString_locationsAndProblems_formatAsFileLineColumn() {
        assertThat(LOC).hasToString("s.yaml:3:5");
        assertThat(SourceLocation.unknown(Path.of("s.yaml"))).hasToString("s.yaml");
        assertThat(new ScenarioProblem(LOC, "devices.0.bdf", "bad")).hasToString("s.yaml:3:5: devices.0.bdf: bad");
        assertThat(ScenarioProblem.override("seed=x", "bad")).hasToString("<override seed=x>: bad");
        assertThat(new ScenarioException(List.of(new ScenarioProblem(LOC, "a", "one"),
                ScenarioProblem.override("b=1", "two")))).hasMessage("s.yaml:3:5: a: one\n<override b=1>: two");
    }

    @Test
    void describe_expectations_giveShortText() {
        assertThat(new PageResponseExpect("acc0", "SUCCESS", null, null, null, 2, LOC).describe())
                .isEqualTo("page-response acc0 SUCCESS x2");
        assertThat(new DmaExpect("acc0", "ok", null, LOC).describe()).isEqualTo("dma acc0 ok");
        assertThat(new FaultRecordExpect("nic0", "TRANSLATION_NOT_PRESENT", true, 1, LOC).describe())
                .isEqualTo("fault-record nic0 TRANSLATION_NOT_PRESENT recorded=true x1");
        assertThatThrownBy(() -> new DeviceExpect("acc0", null, null, LOC)).hasMessageContaining("needs");
        assertThatThrownBy(() -> new LogExpect("", LOC)).hasMessageContaining("empty");
    }
}
