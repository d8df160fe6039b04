package dev.iommulab.lab.scenario;

import dev.iommulab.lab.scenario.Tree.ListNode;
import dev.iommulab.lab.scenario.Tree.MapNode;
import dev.iommulab.lab.scenario.Tree.Node;
import dev.iommulab.lab.scenario.Tree.Pos;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * Binds the {@code devices} and {@code processes} sections and fills the binding's declared names (also
 * from entries with other problems, so references to them do not cascade into more errors).
 */
final class SpecBinder {

    private static final List<String> DEVICE_KEYS = List.of("name", "bdf", "profile", "ats", "pri", "pasid-bits",
            "pri-credits", "atc-entries", "virtual-function");
    private static final List<String> GUEST_DEVICE_KEYS = List.of("name", "bdf", "profile", "ats", "pri",
            "pasid-bits", "pri-credits", "atc-entries", "virtual-function", "backing", "host-device", "viot");
    private static final List<String> PROCESS_KEYS = List.of("name", "vmas", "user-response");
    private static final List<String> VMA_KEYS = List.of("start", "size", "prot");

    private final Binding binding;
    private final Map<String, Pos> deviceNames = new LinkedHashMap<>();
    private final Map<Integer, Pos> rids = new LinkedHashMap<>();
    private final Map<String, Pos> processNames = new LinkedHashMap<>();

    /** {@code binding}'s name sets are filled by this binder. */
    SpecBinder(Binding binding) {
        this.binding = binding;
    }

    List<DeviceSpec> devices(ListNode list) {
        List<DeviceSpec> out = bindEach(list, "devices", binding.problems(),
                (item, path) -> device(new Fields(item, path, binding, DEVICE_KEYS)));
        binding.devices().addAll(deviceNames.keySet());
        return out;
    }

    /**
     * A guest's {@code devices}: the keys of the host's, plus {@code backing} ({@code emulated}, the default, or
     * {@code assigned}) and {@code host-device} (a device of {@code hostDevices}, for an assigned one).
     */
    List<GuestSpec.Device> guestDevices(ListNode list, String path, Set<String> hostDevices) {
        List<GuestSpec.Device> out = bindEach(list, path, binding.problems(), (item, at) -> {
            Fields f = new Fields(item, at, binding, GUEST_DEVICE_KEYS);
            DeviceSpec spec = device(f);
            String backing = f.choice("backing", GuestSpec.BACKINGS, "emulated");
            String host = f.string("host-device", null);
            if ("assigned".equals(backing) && host == null) {
                f.missing("host-device");
            } else if ("emulated".equals(backing) && host != null) {
                f.error(f.valuePos("host-device"), "host-device", "only an assigned device has a host device");
            } else if (host != null && !hostDevices.contains(host)) {
                f.error(f.valuePos("host-device"), "host-device", "unknown host device '" + host + "'; declared: "
                        + String.join(", ", hostDevices));
            }
            Boolean viot = f.bool("viot", true);
            return f.ok() && spec != null ? new GuestSpec.Device(spec, backing, host, viot) : null;
        });
        binding.devices().addAll(deviceNames.keySet());
        return out;
    }

    List<ProcessSpec> processes(ListNode list) {
        List<ProcessSpec> out = bindEach(list, "processes", binding.problems(),
                (item, path) -> process(new Fields(item, path, binding, PROCESS_KEYS)));
        binding.processes().addAll(processNames.keySet());
        return out;
    }

    /**
     * The items of a list bound one by one: {@code bind} gets each mapping item with its path ({@code path.i});
     * other items are reported (as {@link #mappings} does) and given as {@code null}, as is an item {@code bind}
     * rejects.
     */
    static <T> List<T> bindEach(ListNode list, String path, Problems problems, BiFunction<MapNode, String, T> bind) {
        List<MapNode> nodes = mappings(list, path, problems);
        List<T> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            out.add(nodes.get(i) == null ? null : bind.apply(nodes.get(i), path + "." + i));
        }
        return out;
    }

    /** The items of a list as mappings; other items are reported and given as {@code null}. */
    static List<MapNode> mappings(ListNode list, String path, Problems problems) {
        List<MapNode> out = new ArrayList<>();
        if (list == null) {
            return out;
        }
        for (int i = 0; i < list.items().size(); i++) {
            Node item = list.items().get(i);
            if (item instanceof MapNode m) {
                out.add(m);
            } else {
                problems.add(item.pos(), path + "." + i, "expected a mapping, found " + item.what());
                out.add(null);
            }
        }
        return out;
    }

    private DeviceSpec device(Fields f) {
        String name = unique(f, "name", deviceNames, "device name");
        String bdf = f.text("bdf");
        if (bdf != null) {
            uniqueBdf(f, bdf);
        }
        String profile = f.choice("profile", DeviceSpec.PROFILES, "generic");
        Boolean ats = f.bool("ats", false);
        Boolean pri = f.bool("pri", false);
        if (Boolean.TRUE.equals(pri) && Boolean.FALSE.equals(ats)) {
            f.error(f.valuePos("pri"), "pri", "pri: true requires ats: true");
        }
        Integer pasidBits = f.integer("pasid-bits", 0, DeviceSpec.MAX_PASID_BITS, 0);
        Integer credits = f.integer("pri-credits", 1, Integer.MAX_VALUE, DeviceSpec.DEFAULT_PRI_CREDITS);
        Integer atc = f.integer("atc-entries", 0, Integer.MAX_VALUE, DeviceSpec.DEFAULT_ATC_ENTRIES);
        Boolean vf = f.bool("virtual-function", false);
        return f.ok() ? new DeviceSpec(name, bdf, profile, ats, pri, pasidBits, credits, atc, vf) : null;
    }

    private void uniqueBdf(Fields f, String bdf) {
        int rid;
        try {
            rid = Checks.rid(bdf);
        } catch (IllegalArgumentException e) {
            f.error(f.valuePos("bdf"), "bdf", e.getMessage());
            return;
        }
        Pos first = rids.putIfAbsent(rid, f.valuePos("bdf"));
        if (first != null) {
            f.error(f.valuePos("bdf"), "bdf", "duplicate bdf '" + bdf + "' (first at " + where(first) + ")");
        }
    }

    private ProcessSpec process(Fields f) {
        String name = unique(f, "name", processNames, "process name");
        String userResponse = f.choice("user-response", ProcessSpec.USER_RESPONSES, null);
        List<MapNode> nodes = mappings(f.list("vmas"), f.path("vmas"), binding.problems());
        List<VmaSpec> vmas = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            VmaSpec vma = nodes.get(i) == null ? null
                    : vma(new Fields(nodes.get(i), f.path("vmas." + i), binding, VMA_KEYS));
            for (int j = 0; j < i && vma != null; j++) {
                if (vmas.get(j) != null && vma.overlaps(vmas.get(j))) {
                    f.error(nodes.get(i).pos(), "vmas." + i, "vma overlaps vmas." + j);
                }
            }
            vmas.add(vma);
        }
        return f.ok() && !vmas.contains(null) ? new ProcessSpec(name, vmas, userResponse) : null;
    }

    private VmaSpec vma(Fields f) {
        Long start = f.pageAligned("start", false);
        Long size = f.pageAligned("size", true);
        String prot = f.prot("prot", "rw");
        if (f.ok() && start + size < 0) {
            f.error(f.valuePos("size"), "size", "vma end overflows");
        }
        return f.ok() ? new VmaSpec(start, size, prot) : null;
    }

    static String unique(Fields f, String key, Map<String, Pos> seen, String what) {
        String name = f.text(key);
        if (name != null) {
            Pos first = seen.putIfAbsent(name, f.valuePos(key));
            if (first != null) {
                f.error(f.valuePos(key), key, "duplicate " + what + " '" + name + "' (first at " + where(first) + ")");
            }
        }
        return name;
    }

    private static String where(Pos pos) {
        return pos.location() != null ? pos.location().toString() : "<override " + pos.override() + ">";
    }
}
