package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Binds the {@code guests} section: each guest's name, memory, virtual IOMMU and devices (the keys of
 * {@code devices} plus {@code backing} and {@code host-device}); fills the binding's guest names with their devices.
 */
final class GuestBinder {

    private static final List<String> GUEST_KEYS = List.of("name", "memory", "viommu", "devices");
    private static final List<String> VIOMMU_KEYS = List.of("model", "options");

    private final Binding binding;
    private final Map<String, Tree.Pos> names = new LinkedHashMap<>();

    GuestBinder(Binding binding) {
        this.binding = binding;
    }

    List<GuestSpec> guests(ListNode list) {
        return SpecBinder.bindEach(list, "guests", binding.problems(), (item, path) -> guest(item, path));
    }

    private GuestSpec guest(MapNode item, String path) {
        Fields f = new Fields(item, path, binding, GUEST_KEYS);
        String name = SpecBinder.unique(f, "name", names, "guest name");
        Long memory = f.pageAligned("memory", true);
        String model = null;
        Map<String, Object> options = new LinkedHashMap<>();
        MapNode viommu = f.map("viommu");
        if (viommu == null) {
            f.missing("viommu");
        } else {
            Fields v = new Fields(viommu, f.path("viommu"), binding, VIOMMU_KEYS);
            model = v.choice("model", GuestSpec.VIOMMU_MODELS);
            options.putAll(ScenarioBinder.options(v));
        }
        Binding own = Binding.of(binding.problems());
        List<GuestSpec.Device> devices = new SpecBinder(own).guestDevices(f.list("devices"), f.path("devices"),
                binding.devices());
        Set<String> deviceNames = new LinkedHashSet<>(own.devices());
        if (name != null) {
            binding.guests().put(name, deviceNames);
        }
        if (!f.ok() || devices.contains(null)) {
            return null;
        }
        try {
            return new GuestSpec(name, memory, model, options, devices);
        } catch (IllegalArgumentException e) {
            f.error(item.pos(), "", e.getMessage());
            return null;
        }
    }
}
