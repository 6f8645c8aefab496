package dev.cellar.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The arrow points one way: domain packages know nothing of Spring Batch, Quartz or VFS; the
 * adapters (jobs, schedule, storage drivers) know the domain.
 */
class ArchitectureTest {

    static final String[] DOMAIN = {
            "dev.cellar.backup..", "dev.cellar.wal..", "dev.cellar.restore..", "dev.cellar.retention..", "dev.cellar.verify..",
            "dev.cellar.repository..", "dev.cellar.catalog..", "dev.cellar.postgres..", "dev.cellar.check..", "dev.cellar.audit..",
            "dev.cellar.hooks.."};

    final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.cellar");

    @Test
    void domainPackagesDoNotUseSpringBatchQuartzOrVfs() {
        noClasses().that().resideInAnyPackage(DOMAIN)
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework.batch..", "org.quartz..", "org.apache.commons.vfs2..")
                .because("jobs adapts the domain to Spring Batch, schedule to Quartz and storage to VFS")
                .check(classes);
    }

    @Test
    void domainPackagesDoNotDependOnTheAdapters() {
        noClasses().that().resideInAnyPackage(DOMAIN)
                .should().dependOnClassesThat().resideInAnyPackage("dev.cellar.jobs..", "dev.cellar.schedule..", "dev.cellar.cli..", "dev.cellar.api..", "dev.cellar.web..")
                .check(classes);
    }

    @Test
    void domainPackagesDoNotUseTheWebStack() {
        noClasses().that().resideInAnyPackage(DOMAIN)
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework.web..", "org.springframework.boot..", "jakarta.servlet..",
                        "io.micrometer..")
                .because("the page, the API and the metrics (dev.cellar.web) read the domain, not the other way round")
                .check(classes);
    }

    @Test
    void onlyTheVfsDriverTouchesVfs() {
        noClasses().that().doNotHaveFullyQualifiedName("dev.cellar.storage.VfsStorage")
                .should().dependOnClassesThat().resideInAnyPackage("org.apache.commons.vfs2..")
                .check(classes);
    }

    @Test
    void theRuleCatchesAViolation() {
        // A rule that cannot fail proves nothing: check it against a class that does break it.
        JavaClasses bad = new ClassFileImporter().importClasses(dev.cellar.jobs.JobLaunchService.class);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> noClasses().that().resideInAnyPackage("dev.cellar.jobs..")
                        .should().dependOnClassesThat().resideInAnyPackage("org.springframework.batch..").check(bad))
                .isInstanceOf(AssertionError.class);
    }
}
