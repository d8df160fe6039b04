package dev.iommulab.iopf.random;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reports and their answers, by identity of the reported fault. */
final class Ledger {
    private final Map<IommuFault, Device> devices = new IdentityHashMap<>();
    private final Map<IommuFault, List<String>> answers = new IdentityHashMap<>();
    private final List<IommuFault> lpigs = new ArrayList<>();

    void reported(Device dev, IommuFault evt) {
        devices.put(evt, dev);
        answers.put(evt, new ArrayList<>());
        if (evt.lastPage()) {
            lpigs.add(evt);
        }
    }

    boolean known(IommuFault evt) {
        return devices.containsKey(evt);
    }

    Device device(IommuFault evt) {
        return devices.get(evt);
    }

    int answer(IommuFault evt, String answer) {
        List<String> list = answers.get(evt);
        list.add(answer);
        return list.size();
    }

    List<String> answers(IommuFault evt) {
        return answers.getOrDefault(evt, List.of());
    }

    Map<IommuFault, List<String>> lpigs() {
        Map<IommuFault, List<String>> out = new LinkedHashMap<>();
        lpigs.forEach(l -> out.put(l, answers.get(l)));
        return out;
    }

    static boolean sameFaults(List<IommuFault> a, List<IommuFault> b) {
        if (a == null || b == null || a.size() != b.size()) {
            return a == b;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    static String describe(IommuFault f) {
        return f == null ? "null" : String.format("%s(pasid %d grpid %d @%#x)", f.lastPage() ? "L" : "P",
                f.pasid(), f.grpid(), f.addr());
    }

    static String describe(List<IommuFault> faults) {
        return faults == null ? "null" : faults.stream().map(Ledger::describe).toList().toString();
    }
}
