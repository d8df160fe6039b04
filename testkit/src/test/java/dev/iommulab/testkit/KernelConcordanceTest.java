package dev.iommulab.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.testkit.KernelConcordance.Claim;
import dev.iommulab.testkit.KernelConcordance.Row;
import dev.iommulab.testkit.KernelConcordance.Table;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deliverable 6 of issue 13: every kernel function the behavioural notes name has exactly one Java home whose
 * Javadoc says {@code Counterpart of <function>()}, or is listed as not modelled (or as not a kernel function)
 * with a reason. The list is docs/kernel-concordance.md, which says how homes and older names are written.
 */
class KernelConcordanceTest {

    private static List<Row> rows;
    private static List<Claim> claims;

    @BeforeAll
    static void read() throws IOException {
        Path root = KernelConcordance.repositoryRoot();
        rows = KernelConcordance.rows(Files.readAllLines(root.resolve("docs/kernel-concordance.md")));
        claims = KernelConcordance.claims(root);
    }

    @Test
    void concordance_everyTable_hasRows() {
        for (Table t : Table.values()) {
            assertThat(rows).as("rows of %s", t).anyMatch(r -> r.table() == t);
        }
        assertThat(claims).as("Counterpart-of claims found in main code").hasSizeGreaterThan(100);
    }

    @Test
    void concordance_everyName_listedOnce() {
        Map<String, List<String>> places = new LinkedHashMap<>();
        for (Row r : rows) {
            places.computeIfAbsent(r.function(), k -> new ArrayList<>()).add(r.table() + " line " + r.line());
            for (String older : r.olderNames()) {
                places.computeIfAbsent(older, k -> new ArrayList<>()).add("older name, line " + r.line());
            }
        }
        List<String> problems = new ArrayList<>();
        places.forEach((name, where) -> {
            if (where.size() > 1) {
                problems.add(name + "() listed " + where.size() + " times: " + where);
            }
        });
        assertThat(problems).as("names listed more than once in docs/kernel-concordance.md").isEmpty();
    }

    @Test
    void modelledFunction_inMainCode_hasExactlyOneHomeWhereListed() {
        List<String> problems = new ArrayList<>();
        for (Row r : rows) {
            if (r.table() != Table.MODELLED) {
                continue;
            }
            List<Claim> homes = claims.stream().filter(c -> c.function().equals(r.function())).toList();
            if (homes.size() != 1) {
                problems.add(r.function() + "(): " + homes.size() + " homes " + homes.stream().map(Claim::where).toList()
                        + ", expected one in " + r.home());
                continue;
            }
            Claim home = homes.get(0);
            if (!atHome(home, r.home())) {
                problems.add(r.function() + "(): home is " + home.where() + ", the table says " + r.home());
            }
            if (!home.olderNames().equals(r.olderNames())) {
                problems.add(r.function() + "(): older names " + home.olderNames() + " in " + home.where()
                        + ", the table says " + r.olderNames());
            }
        }
        assertThat(problems).as("modelled functions without exactly one home at the listed place").isEmpty();
    }

    @Test
    void unmodelledName_inMainCode_hasNoHome() {
        List<String> problems = new ArrayList<>();
        for (Row r : rows) {
            if (r.table() == Table.MODELLED) {
                continue;
            }
            for (Claim c : claims) {
                if (c.function().equals(r.function()) || c.olderNames().contains(r.function())) {
                    problems.add(r.function() + "() is listed under " + r.table() + " (line " + r.line()
                            + ") but " + c.where() + " is its home: move the row to the modelled table");
                }
            }
        }
        assertThat(problems).as("names the document says have no home").isEmpty();
    }

    @Test
    void counterpartClaims_acrossMainCode_nameDistinctFunctions() {
        assertThat(duplicateHomes(claims)).as("kernel functions with more than one home in main code").isEmpty();
    }

    @Test
    void claims_javadocWithCodeFormAndOlderNames_allRead() {
        String source = """
                /** Counterpart of {@code first_fn()} (formerly old_one(), old_two()): text. */
                @Override
                public void firstFn(int a) {
                }
                /**
                 * Does things. Counterpart of second_fn() and
                 * mentions other_fn(); Counterpart of
                 * third_fn(), the same member.
                 */
                static final class Holder {
                }
                /** The body of fourth_fn(), no claim; the counterpart of fifth_fn() is lowercase, no claim. */
                void helper() {
                }
                """;

        List<Claim> found = KernelConcordance.claims("m/src/main/java/p/Sample.java", source);

        assertThat(found).extracting(Claim::function).containsExactly("first_fn", "second_fn", "third_fn");
        assertThat(found.get(0).olderNames()).containsExactly("old_one", "old_two");
        assertThat(found.get(0).member()).isEqualTo("firstFn");
        assertThat(found.get(1).olderNames()).isEmpty();
        assertThat(found.get(1).member()).isEqualTo("Holder");
        assertThat(found.get(0).fileClass()).isEqualTo("Sample");
    }

    @Test
    void duplicateHomes_sameFunctionOrOlderNameTwice_reported() {
        List<Claim> twice = List.of(
                new Claim("a_fn", List.of(), "x/A.java", "a", 1),
                new Claim("b_fn", List.of("a_fn"), "x/B.java", "b", 2),
                new Claim("c_fn", List.of(), "x/C.java", "c", 3));

        assertThat(duplicateHomes(twice)).singleElement().asString().startsWith("a_fn()");
    }

    @Test
    void rows_modelledRowWithoutHome_rejected() {
        List<String> doc = List.of("## Modelled", "| Kernel function | Java home | Older names |",
                "| `a_fn()` | somewhere | |");

        assertThatThrownBy(() -> KernelConcordance.rows(doc)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 3");
    }

    /** Every name claimed by more than one comment (as the function or as an older name), with its places. */
    private static List<String> duplicateHomes(List<Claim> all) {
        Map<String, List<String>> places = new LinkedHashMap<>();
        for (Claim c : all) {
            places.computeIfAbsent(c.function(), k -> new ArrayList<>()).add(c.where());
            for (String older : c.olderNames()) {
                places.computeIfAbsent(older, k -> new ArrayList<>()).add(c.where() + " as an older name");
            }
        }
        List<String> problems = new ArrayList<>();
        places.forEach((name, where) -> {
            if (where.size() > 1) {
                problems.add(name + "() has " + where.size() + " homes: " + where);
            }
        });
        return problems;
    }

    /** Whether {@code claim} sits where {@code home} ({@code Class}, {@code Class#member}, {@code A.B#member}) says. */
    private static boolean atHome(Claim claim, String home) {
        int hash = home.indexOf('#');
        String type = hash < 0 ? home : home.substring(0, hash);
        String outer = type.contains(".") ? type.substring(0, type.indexOf('.')) : type;
        String member = hash < 0 ? type.substring(type.lastIndexOf('.') + 1) : home.substring(hash + 1);
        return claim.fileClass().equals(outer) && claim.member().equals(member);
    }
}
