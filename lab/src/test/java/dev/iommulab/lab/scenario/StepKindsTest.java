package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The step table is complete and is the one source of the step kinds: every kind of the sealed {@link Step} has
 * exactly one entry, every {@link StepHandlers} method is reached by exactly one entry with its record, and every
 * key is in the steps list of docs/scenario-format.md.
 */
class StepKindsTest {

    private static final Path FORMAT = Path.of("..", "docs", "scenario-format.md");

    /** Every step kind has one entry; {@link GuestStep} is no kind of its own but any step done inside a guest. */
    @Test
    void table_everyPermittedStepKind_hasExactlyOneEntry() {
        List<Class<?>> permitted = Arrays.stream(Step.class.getPermittedSubclasses())
                .filter(c -> c != GuestStep.class).collect(Collectors.toList());
        Map<Class<?>, Long> entries = StepKinds.TABLE.stream()
                .collect(Collectors.groupingBy(StepKinds.Kind::type, Collectors.counting()));

        assertThat(permitted).isNotEmpty();
        assertThat(entries.keySet()).containsExactlyInAnyOrderElementsOf(permitted);
        assertThat(entries).allSatisfy((type, count) -> assertThat(count).as("entries of %s", type).isOne());
    }

    @Test
    void table_keys_areUniqueAndInTheFormatOrder() {
        assertThat(StepKinds.keys()).doesNotHaveDuplicates().hasSize(StepKinds.TABLE.size())
                .startsWith("sva-bind", "sva-unbind", "attach", "map", "unmap", "dma")
                .endsWith("fault-write", "fault-close", "iommufd-close");
        StepKinds.TABLE.forEach(k -> assertThat(StepKinds.byKey(k.key())).isSameAs(k));
    }

    /** Each entry's handler calls one handler method, whose parameter is the entry's record; no method is left out. */
    @Test
    void table_handlers_reachEveryHandlerMethodOnce() {
        List<Method> called = new ArrayList<>();
        StepHandlers handlers = recording(StepHandlers.class, called);

        for (StepKinds.Kind<?> kind : StepKinds.TABLE) {
            int before = called.size();
            kind.perform(handlers, null);
            assertThat(called.subList(before, called.size())).as("handler of %s", kind.key()).singleElement()
                    .satisfies(m -> assertThat(m.getParameterTypes()).containsExactly(kind.type()));
        }

        List<Method> all = new ArrayList<>();
        for (Method area : StepHandlers.class.getDeclaredMethods()) {
            if (area.getParameterCount() == 0) {
                all.addAll(Arrays.asList(area.getReturnType().getDeclaredMethods()));
            } else {
                all.add(area);
            }
        }
        assertThat(called).containsExactlyInAnyOrderElementsOf(all);
    }

    @Test
    void table_everyKey_isInTheFormatsStepsList() throws IOException {
        String row = Files.readAllLines(FORMAT).stream().filter(l -> l.startsWith("| steps |")).findFirst()
                .orElseThrow();
        String list = row.substring(0, row.indexOf("Other steps are rejected"));
        List<String> documented = new ArrayList<>();
        Matcher m = Pattern.compile("`([a-z-]+)`").matcher(list);
        while (m.find()) {
            documented.add(m.group(1));
        }

        assertThat(documented).containsAll(StepKinds.keys());
    }

    @Test
    void kind_ofEachRecord_isItsEntrysKey() {
        SourceLocation loc = new SourceLocation(Path.of("t.yaml"), 1, 1);
        assertThat(new SvaBind("d", "p", null, loc).kind()).isEqualTo("sva-bind");
        assertThat(Run.idle(loc).kind()).isEqualTo("run");
        assertThat(new IommufdClose("p", null, loc).kind()).isEqualTo("iommufd-close");
    }

    /** A proxy of {@code type} that records each call; a call returning an area interface returns a recording area. */
    private static <T> T recording(Class<T> type, List<Method> called) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return switch (method.getName()) {
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> "recording " + type.getSimpleName();
                };
            }
            if (method.getParameterCount() == 0 && method.getReturnType().isInterface()) {
                return recording(method.getReturnType(), called);
            }
            called.add(method);
            return null;
        }));
    }
}
