package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.Entry;
import dev.iommulab.lab.scenario.Tree.MapNode;
import dev.iommulab.lab.scenario.Tree.Node;
import dev.iommulab.lab.scenario.Tree.ScalarNode;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Binds a whole document to a {@link Scenario}, reporting every problem. */
final class ScenarioBinder {

    private static final List<String> TOP_KEYS = List.of("name", "description", "seed", "kernel", "hardware",
            "policies", "devices", "processes", "guests", "steps", "expect");
    private static final List<String> HARDWARE_KEYS = List.of("model", "options");

    private final Path file;
    private final Problems problems;

    ScenarioBinder(Path file, Problems problems) {
        this.file = file;
        this.problems = problems;
    }

    /** The scenario, or {@code null} when any problem (also one found before binding) was reported. */
    Scenario bind(Node root) {
        if (!(root instanceof MapNode map)) {
            problems.add(root.pos(), "", "a scenario file must be a mapping of keys, found " + root.what());
            return null;
        }
        Binding binding = Binding.of(problems);
        Fields f = new Fields(map, "", binding, TOP_KEYS);
        String name = f.text("name");
        String description = f.string("description", "");
        Long seed = f.number("seed", Scenario.DEFAULT_SEED);
        String kernel = f.choice("kernel", Scenario.KERNELS, Scenario.DEFAULT_KERNEL);
        HardwareSpec hardware = hardware(f, binding);
        Map<String, String> policies = new LinkedHashMap<>();
        scalars(f, "policies").forEach((k, v) -> policies.put(k, v.text()));
        SpecBinder specs = new SpecBinder(binding);
        List<DeviceSpec> devices = specs.devices(f.list("devices"));
        List<ProcessSpec> processes = specs.processes(f.list("processes"));
        List<GuestSpec> guests = new GuestBinder(binding).guests(f.list("guests"));
        List<Step> steps = new StepBinder(binding).steps(f.list("steps"));
        List<Expectation> expectations = new ExpectationBinder(binding, steps.size()).expectations(f.list("expect"));
        if (!problems.isEmpty()) {
            return null;
        }
        try {
            return new Scenario(name, description, seed, kernel, hardware, policies, devices, processes, guests,
                    steps, expectations, file);
        } catch (IllegalArgumentException e) {
            problems.add(map.pos(), "", e.getMessage());
            return null;
        }
    }

    private HardwareSpec hardware(Fields top, Binding binding) {
        if (!top.has("hardware")) {
            top.missing("hardware");
            return null;
        }
        MapNode map = top.map("hardware");
        if (map == null) {
            if (top.isNull("hardware")) {
                top.error(top.valuePos("hardware"), "hardware", "expected a mapping with 'model', found nothing");
            }
            return null;
        }
        Fields f = new Fields(map, "hardware", binding, HARDWARE_KEYS);
        String model = f.choice("model", HardwareSpec.MODELS);
        Map<String, Object> options = options(f);
        return f.ok() ? new HardwareSpec(model, options) : null;
    }

    /** The {@code options} of a hardware model (the host's, or a guest's virtual IOMMU), in file order. */
    static Map<String, Object> options(Fields f) {
        Map<String, Object> options = new LinkedHashMap<>();
        scalars(f, "options").forEach((k, v) -> options.put(k, option(f, "options." + k, v)));
        return options;
    }

    /** A mapping whose values must all be scalars (policies, hardware options), in file order. */
    private static Map<String, ScalarNode> scalars(Fields f, String key) {
        Map<String, ScalarNode> out = new LinkedHashMap<>();
        MapNode map = f.map(key);
        if (map == null) {
            return out;
        }
        for (Entry e : map.entries()) {
            if (e.value() instanceof ScalarNode s && !s.isNull()) {
                out.put(e.key(), s);
            } else {
                f.error(e.value().pos(), key + "." + e.key(), "expected a value, found " + e.value().what());
            }
        }
        return out;
    }

    /** An option value: a number (Long), a boolean, or else the text as written. */
    private static Object option(Fields f, String key, ScalarNode value) {
        String text = value.text();
        if (text.equals("true") || text.equals("false")) {
            return Boolean.valueOf(text);
        }
        if (!Numbers.isSize(text)) {
            return text;
        }
        try {
            return Numbers.parseSize(text);
        } catch (IllegalArgumentException e) {
            f.error(value.pos(), key, e.getMessage());
            return text;
        }
    }
}
