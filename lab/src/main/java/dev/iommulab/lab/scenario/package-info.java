/**
 * Scenario files: the immutable model ({@link dev.iommulab.lab.scenario.Scenario} and its parts) and
 * the validating YAML loader ({@link dev.iommulab.lab.scenario.ScenarioLoader}).
 *
 * <p>The file format is the public contract described in {@code SCENARIO-FORMAT.md}. Every model record
 * validates itself in its compact constructor; the loader additionally reports each problem at the file,
 * line, column and dotted key where it was found, and never returns a partially valid scenario.
 */
package dev.iommulab.lab.scenario;
